import { join } from 'node:path';
import { definePlugin, SecretBox } from 'plinth/sdk';
import { modelRouterRef, turnRecordsRef } from 'plinth/contracts/agents';
import { adminClient } from './admin-routes-client';
import { migrations } from './migrations';
import { ModelInterviewer } from './model-interviewer';
import { registerInterviewRoutes } from './routes';
import { SetupInterview } from './setup-interview';

type Deps = { models: ReturnType<typeof modelRouterRef.asOptional>; records: ReturnType<typeof turnRecordsRef.asOptional> };

export default definePlugin<Deps, { model?: string }>({
  deps: { models: modelRouterRef.asOptional(), records: turnRecordsRef.asOptional() },
  async setup({ http, storage, dataDir, clock, kernel, config, models, records }) {
    // The configured model leads the interview; on builtin (or without the agents plugin) the script does.
    const model = config.model ?? records?.defaultModel();
    const interviewer = models && model && !model.startsWith('builtin/') ? new ModelInterviewer(models, model) : undefined;
    const interview = new SetupInterview(await storage.open({ migrations }), new SecretBox(join(dataDir, 'interview.key')), () => clock.now(), interviewer);
    registerInterviewRoutes(http, interview, req => adminClient(() => kernel.baseUrl(), req));
  },
});
