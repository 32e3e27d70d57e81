import { errors, type Clock, type ToolRegistry } from 'plinth/sdk';
import { isAddressable } from './lifecycle';
import type { MeshMessaging } from './messaging';
import { viewPeer } from './peer-store';
import type { PeerRegistry } from './peer-registry';
import { readEvidence } from './tmux-evidence';
import type { LinkDeps } from './link';
import { spawnPeer } from './spawn';

const str = { type: 'string', minLength: 1 } as const;
const obj = (required: string[], properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, required, properties });

/** The mesh's MCP tools, through the kernel's registry (so `/mcp` offers them as `mesh.*`). */
export function registerTools(tools: ToolRegistry, peers: PeerRegistry, messaging: MeshMessaging, clock: Clock, spawn: { link: LinkDeps; commands: Record<string, string[]> }): void {
  tools.register({
    name: 'ask', risk: 'safe', description: 'Ask another peer a question; returns the correlation id once its hook confirmed delivery',
    inputSchema: obj(['from', 'to', 'text'], { from: str, to: str, text: str, reply_to: str }),
    run: (input: any, ctx) => messaging.ask(ctx.user, input),
  });
  tools.register({
    name: 'wait_on_ack', risk: 'safe', description: 'Wait (≤ 50 s) for an ask to close; answers the ask with its reply',
    inputSchema: obj(['correlation_id'], { correlation_id: str, timeout_ms: { type: 'integer', minimum: 0, maximum: 50_000 } }),
    run: (input: any, ctx) => messaging.wait(ctx.user, input.correlation_id, input.timeout_ms ?? 50_000, ctx.signal),
  });
  tools.register({
    name: 'ask_many', risk: 'safe', description: 'Ask several peers the same question; one result per recipient',
    inputSchema: obj(['from', 'to', 'text'], { from: str, to: { type: 'array', items: str, minItems: 1, maxItems: 50 }, text: str }),
    run: async (input: any, ctx) => ({
      items: await Promise.all(input.to.map((to: string) => messaging.ask(ctx.user, { from: input.from, to, text: input.text })
        .then(r => ({ to, ...r }), (err: any) => ({ to, error: { code: err.code ?? 'PLINTH_ERR_INTERNAL', message: err.message } })))),
    }),
  });
  tools.register({
    name: 'ack', risk: 'safe', description: 'Ack an ask, optionally with a reply message delivered to the asker',
    inputSchema: obj(['correlation_id'], { correlation_id: str, message: str }),
    run: (input: any, ctx) => messaging.ack(ctx.user, input.correlation_id, input.message),
  });
  tools.register({
    name: 'notify_peer', risk: 'safe', description: 'Notify a peer (delivered or queued durably)',
    inputSchema: obj(['to', 'text'], { from: str, to: str, text: str }),
    run: (input: any, ctx) => messaging.notify(ctx.user, input),
  });
  tools.register({
    name: 'broadcast', risk: 'safe', description: 'Notify every connected peer of the sender\'s circle',
    inputSchema: obj(['from', 'text'], { from: str, text: str }),
    run: (input: any, ctx) => messaging.broadcast(ctx.user, input),
  });
  tools.register({
    name: 'list_peers', risk: 'safe', description: 'Peers of the caller, with liveness; addressable=true for those that can be asked now',
    inputSchema: obj([], { circle: str, addressable: { type: 'boolean' } }),
    run: async (input: any, ctx) => {
      const rows = await peers.store.list({ owner: ctx.user.role === 'admin' ? undefined : ctx.user.id, circle: input.circle });
      return { items: rows.filter(p => input.addressable === undefined || isAddressable(p) === input.addressable).map(p => viewPeer(p, clock.now())) };
    },
  });
  tools.register({
    name: 'whoami', risk: 'safe', description: 'The caller\'s peer bound to a tmux pane (`$TMUX_PANE`)',
    inputSchema: obj(['pane_id'], { pane_id: { type: 'string', pattern: '^%[0-9]+$' } }),
    run: async (input: any, ctx) => {
      const p = (await peers.store.list({ owner: ctx.user.id })).find(x => x.binding.pane_id === input.pane_id && x.lifecycle !== 'retired');
      if (!p) throw errors.notFound(`peer in pane ${input.pane_id}`);
      return viewPeer(p, clock.now());
    },
  });
  tools.register({
    name: 'set_description', risk: 'safe', description: 'What this peer is working on, shown to others until the TTL passes',
    inputSchema: obj(['peer_id', 'description'], { peer_id: str, description: { type: 'string', maxLength: 2000 }, ttl_ms: { type: 'integer', minimum: 1000 } }),
    run: async (input: any, ctx) => {
      const p = await peers.visible(ctx.user, input.peer_id);
      await peers.store.update(p.id, { description: input.description, description_until: input.ttl_ms ? clock.now() + input.ttl_ms : null });
      return viewPeer((await peers.store.get(p.id))!, clock.now());
    },
  });
  tools.register({
    name: 'spawn_peer', risk: 'gated', description: 'Start an agent (a program an admin configured for the backend) in a new window of the asking peer\'s tmux session and link it as a peer',
    inputSchema: obj(['from', 'backend'], { from: str, backend: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,39}$' }, name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$' } }),
    run: (input: any, ctx) => spawnPeer(spawn.link, spawn.commands, ctx.user, input),
  });
  tools.register({
    name: 'kill_peer', risk: 'gated', description: 'Retire a peer and stop its agent process (only while the evidence says it is that agent)',
    inputSchema: obj(['peer_id'], { peer_id: str }),
    run: async (input: any, ctx) => {
      const p = await peers.visible(ctx.user, input.peer_id);
      const ev = await readEvidence(p.binding);
      // Only the recorded agent (pid and start time): a reused pid is someone else's process.
      if (ev.agentAlive) { try { process.kill(p.binding.agent_pid, 'SIGTERM'); } catch { /* already gone */ } }
      await peers.retire(p, 'killed');
      return { peer_id: p.id, retired: true, signalled: ev.agentAlive };
    },
  });
}
