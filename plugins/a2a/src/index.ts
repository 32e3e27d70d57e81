import { definePlugin, egressRef, lazy, reply, type ToolRisk } from 'plinth/sdk';
import { agentRuntimeRef } from 'plinth/contracts/agents';
import { a2aPeersRef } from './contract';
import { HelloBody, SendInput } from './schemas';
import { migrations, PersistentTaskStore } from './task-store';

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

interface A2AConfig {
  name: string;
  description: string;
  defaultAgent?: string;
  sendTimeoutMs: number;
  sendRisk: ToolRisk;
  peers: Record<string, { cardUrl: string; token?: string }>;
}

export default definePlugin({
  deps: { agents: agentRuntimeRef.asOptional(), egress: egressRef },
  provides: [a2aPeersRef],
  async setup({ egress, http, tools, auth, kernel, config, onDispose, agents, storage, clock, log, provide }) {
    const cfg = config as A2AConfig;
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

    const cardRoute = { auth: 'public' as const, summary: 'A2A agent card' };
    const serveCard = async () => reply(200, await card(), { headers: { 'cache-control': 'no-cache' } });
    http.get('/.well-known/agent-card.json', cardRoute, serveCard);
    http.get('/.well-known/agent.json', { ...cardRoute, summary: 'A2A agent card (pre-1.0 path)' }, serveCard);
    // `public` so that the refusal of a missing token is a JSON-RPC body; the endpoint checks the bearer itself.
    http.post('/a2a', { auth: 'public', bodyLimit: 4 * 1024 * 1024, summary: 'A2A JSON-RPC (v1.0; v0.3 method names with A2A-Version: 0.3)' }, req => endpoint().handle(req));

    const peers = lazy(() => new (load.peers().PeerDirectory)(cfg.peers, cfg.sendTimeoutMs, egress, clock));
    provide(a2aPeersRef, { hello: (user, input) => peers().hello(user, input) });
    http.post('/hello', { auth: 'user', body: HelloBody, summary: 'Record a peer agent by its card URL' }, req => peers().hello(req.user!, req.body));
    http.get('/peers', { auth: 'user', summary: 'Known peer agents' }, req => ({ items: peers().list(req.user!), nextCursor: null }));
    tools.register({
      name: 'send',
      description: 'Send a message to a known A2A peer agent and return its answer or task',
      inputSchema: SendInput,
      risk: cfg.sendRisk,
      run: (input: { peer: string; message: string; timeoutMs?: number }, ctx) => peers().send(ctx.user, input.peer, input.message, input.timeoutMs),
    });
  },
});
