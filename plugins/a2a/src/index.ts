import { definePlugin, egressRef, lazy } from 'plinth/sdk';
import { agentRuntimeRef } from 'plinth/contracts/agents';
import { a2aPeersRef } from './contract';
import type { Config } from './generated/types';
import { migrations } from './migrations';
import { PersistentTaskStore } from './task-store';
import { registerRoutes } from './routes';
import { registerTools } from './tools';

// The A2A SDK is required on first use (a card, a JSON-RPC call, a peer), not at kernel start.
const load = {
  card: lazy(() => require('./agent-card') as typeof import('./agent-card')),
  server: lazy(() => ({
    ...(require('@a2a-js/sdk/server') as typeof import('@a2a-js/sdk/server')),
    ...(require('./jsonrpc-endpoint') as typeof import('./jsonrpc-endpoint')),
    ...(require('./turn-executor') as typeof import('./turn-executor')),
  })),
  peers: lazy(() => require('./peer-directory') as typeof import('./peer-directory')),
};

/** The manifest's defaults fill in all but the default agent. */
type A2AConfig = Config & Required<Omit<Config, 'defaultAgent'>>;
const deps = { agents: agentRuntimeRef.asOptional(), egress: egressRef };

export default definePlugin<typeof deps, A2AConfig>({
  deps,
  provides: [a2aPeersRef],
  async setup({ egress, http, tools, auth, kernel, config, onDispose, agents, storage, clock, log, provide }) {
    const cfg = config;
    const db = await storage.open({ migrations });
    const card = async () => load.card().buildAgentCard(
      { name: cfg.name, description: cfg.description, baseUrl: kernel.baseUrl(), version: kernel.version },
      agents ? await agents.listAgents().then(list => list.filter(a => a.owner === null)) : [],
    );
    let executor: { abortAll(): void } | undefined;
    let store: PersistentTaskStore | undefined;
    const taskStore = (sdk: typeof import('@a2a-js/sdk/server')) => (store ??= new PersistentTaskStore(db, sdk, () => clock.now()));
    // Tasks a crashed process left running are failed at start, without loading the SDK when there are none.
    if ((await db.query(`SELECT 1 FROM ${db.table('tasks')} WHERE state IN (1, 2) LIMIT 1`)).length) {
      const failed = await taskStore(load.server()).failInterrupted();
      log.warn('A2A tasks interrupted by a restart were marked failed', { count: failed });
    }
    const endpoint = lazy(() => {
      const sdk = load.server();
      const { TurnExecutor, DefaultRequestHandler, A2AJsonRpcEndpoint } = sdk;
      const turns = new TurnExecutor({
        runtime: () => agents,
        defaultAgent: async () => cfg.defaultAgent ?? (agents ? (await agents.listAgents()).find(a => a.owner === null)?.name : undefined),
        clock,
      });
      executor = turns;
      // Tasks are stored (scoped per user as the SDK scopes them) and kept in memory while in use.
      // The handler reads capabilities from the card it is given; the served card needs the listening
      // URL and the current agents, so getAgentCard is answered fresh on each call.
      const handler = new DefaultRequestHandler({ capabilities: { streaming: true, pushNotifications: false } } as any, taskStore(sdk), turns);
      handler.getAgentCard = async () => card() as any;
      return new A2AJsonRpcEndpoint(handler, auth);
    });
    onDispose(() => executor?.abortAll());

    const peers = lazy(() => new (load.peers().PeerDirectory)(cfg.peers, cfg.sendTimeoutMs, egress, clock));
    provide(a2aPeersRef, { hello: (user, input) => peers().hello(user, input) });
    registerRoutes(http, { card, handle: req => endpoint().handle(req), peers });
    registerTools(tools, { peers, sendRisk: cfg.sendRisk });
  },
});
