import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { definePlugin } from 'plinth/sdk';
import { traceLedgerRef } from 'plinth/contracts/channels';
import { jobsRef } from 'plinth/contracts/jobs';
import { AskStore } from './ask-store';
import { InboxSockets } from './inbox';
import { InboxRelay } from './inbox-relay';
import { MeshMessaging } from './messaging';
import { migrations } from './migrations';
import { peerMessageExecutor } from './peer-message-job';
import { PeerRegistry } from './peer-registry';
import { PeerStore } from './peer-store';
import { registerRoutes } from './routes';
import { registerTools } from './tools';

interface Config { pingMs: number; confirmMs: number; sweepMs: number; askTtlMs: number; queueTtlMs: number; queueCap: number; reapAfterMs: number; tombstoneMs: number; waitMaxMs: number; linkTimeoutMs: number; hookCommand?: string[]; spawnCommands: Record<string, string[]> }

// Traces are served through the channels plugin's GET /api/traces/:id when it is enabled; with the
// jobs plugin, a peer message can be a job (and so scheduled).
const deps = { traces: traceLedgerRef.asOptional(), jobs: jobsRef.asOptional() };

export default definePlugin<typeof deps, Config>({
  deps,
  async setup({ http, ws, tools, storage, events, auth, kernel, pluginDir, clock, timers, log, config, onDispose, traces, jobs }) {
    const db = await storage.open({ migrations });
    const inbox = new InboxSockets((peerId, missed) => {
      void peers.setInbound(peerId, 'degraded').catch(() => undefined);
      log.warn('inbox degraded: pings unanswered', { peer: peerId, missed });
    });
    // Inboxes held by other kernels on the same database are reached through the event bus; a kernel is live while it beats.
    const relay = new InboxRelay(db, inbox, events, clock, log, config.pingMs * 3);
    await relay.beat();
    onDispose(relay.start());
    const asks = new AskStore(db);
    const peers: PeerRegistry = new PeerRegistry(new PeerStore(db), relay, clock, log, async p => {
      await messaging.recipientRetired(p);
      // A hook token the kernel minted for this peer (link, rehook) dies with it.
      if (p.hook_token_id) await auth.revokeToken(p.hook_token_id);
    });
    const messaging = new MeshMessaging(asks, peers, relay, clock, log, config);
    await peers.forgetInboxesAtStart();

    const cli = join(pluginDir, '..', '..', 'bin', 'plinth.js');
    const hookCommand = config.hookCommand ?? (existsSync(cli) ? [process.execPath, cli] : ['plinth']);
    const link = { peers, inbox, auth, kernel, hookCommand, timeoutMs: config.linkTimeoutMs, now: () => clock.now() };
    registerRoutes({ http, ws, log, peers, messaging, inbox, node: relay.node, clock, staleAskMs: Math.min(config.askTtlMs, 3_600_000), link });
    registerTools(tools, peers, messaging, clock, { link, commands: config.spawnCommands });
    if (traces) {
      const dispose = traces.addSource({ find: (id, user) => asks.trace(id, user.role === 'admin' ? undefined : [user.id]) });
      onDispose(dispose);
    }
    if (jobs) onDispose(jobs.registerExecutor(peerMessageExecutor(messaging)));

    timers.setInterval(() => {
      inbox.pingAll();
      void relay.beat().catch(err => log.warn('mesh heartbeat failed', { err: String(err) }));
    }, config.pingMs);
    onDispose(() => relay.leave().catch(() => undefined));
    // One sweep at a time: with many peers a sweep (a tmux call each) can outlast the interval.
    let sweeping: Promise<void> | undefined;
    timers.setInterval(() => {
      sweeping ??= messaging.sweep().then(() => peers.sweep(config.reapAfterMs, config.tombstoneMs))
        .catch(err => log.warn('mesh sweep failed; retried on the next one', { err: String(err) }))
        .finally(() => { sweeping = undefined; });
    }, config.sweepMs);
    onDispose(() => sweeping);
    onDispose(() => inbox.closeAll());
  },
});
