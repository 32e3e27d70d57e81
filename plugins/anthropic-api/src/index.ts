import { definePlugin } from 'plinth/sdk';
import { agentRuntimeRef, modelRouterRef } from 'plinth/contracts/agents';
import { registerRoutes } from './routes';

export default definePlugin({
  deps: { runtime: agentRuntimeRef, models: modelRouterRef },
  setup({ http, auth, runtime, models }) {
    registerRoutes(http, auth, runtime, models);
  },
});
