import { definePlugin } from 'plinth/sdk';
import { agentRuntimeRef, modelRouterRef } from 'plinth/contracts/agents';
import { ChatCompletions } from './completions';
import { registerRoutes } from './routes';

export default definePlugin({
  deps: { runtime: agentRuntimeRef, models: modelRouterRef },
  setup({ http, auth, clock, runtime, models }) {
    const completions = new ChatCompletions(runtime, models, clock);

    registerRoutes(http, { auth, runtime, models, completions });
  },
});
