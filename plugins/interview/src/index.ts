import { join } from 'node:path';
import { definePlugin, SecretBox } from 'plinth/sdk';
import { adminClient } from './admin-routes-client';
import { migrations } from './migrations';
import { registerInterviewRoutes } from './routes';
import { SetupInterview } from './setup-interview';

export default definePlugin({
  async setup({ http, storage, dataDir, clock, kernel }) {
    const interview = new SetupInterview(await storage.open({ migrations }), new SecretBox(join(dataDir, 'interview.key')), () => clock.now());
    registerInterviewRoutes(http, interview, req => adminClient(() => kernel.baseUrl(), req));
  },
});
