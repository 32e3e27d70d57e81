import { clusterLinkRef, definePlugin, type ClusterLink } from 'plinth/sdk';
import { postgresLink, localLink } from './cluster-link';
import { ConnectionLedger } from './connection-ledger';
import { ClusterEventRelay } from './event-relay';
import { migrations } from './migrations';
import { NodeRegistry } from './node-registry';
import { registerRoutes } from './routes';
import { PgSignalTransport, RedisSignalTransport } from './signal-transports';

interface Config { redisUrl?: string; nodeUrl?: string }

/**
 * This kernel as one node of several on one database: its row in the nodes table and heartbeat,
 * and on PostgreSQL the kernel's cluster link (events relayed over NOTIFY or Redis, per-user
 * connection counts). With SQLite the node row exists (one node) and events stay in the process.
 */
export default definePlugin<{}, Config>({
  provides: [clusterLinkRef],
  async setup({ http, storage, events, kernel, clock, timers, log, config, secrets, generation, onDispose, provide }) {
    const db = await storage.open({ migrations });
    const nodeId = kernel.nodeId;
    const listening = () => { try { return kernel.baseUrl(); } catch { return null; } };
    const nodeUrl = config.nodeUrl ?? secrets.PLINTH_NODE_URL;
    const redisUrl = config.redisUrl ?? secrets.PLINTH_REDIS_URL;
    let link: Omit<ClusterLink, 'liveNodes'> = localLink;
    let onBeat: ((now: number) => Promise<void>) | undefined;
    if (db.dialect === 'postgres') {
      const transport = redisUrl ? new RedisSignalTransport(redisUrl, db, log) : new PgSignalTransport(db);
      const relay = new ClusterEventRelay({ nodeId, db, events, transport, log, now: () => clock.now() });
      const ledger = new ConnectionLedger({ db, nodeId, now: () => clock.now(), log });
      await relay.start();
      onDispose(() => relay.close());
      link = postgresLink(relay, ledger);
      onBeat = async now => { await relay.prune(now); await ledger.prune(); await ledger.refresh(); };
    }
    const nodes = new NodeRegistry({ db, nodeId, generation, version: kernel.version, clock, timers, log, url: () => nodeUrl ?? listening(), onBeat });
    await nodes.start();
    onDispose(() => nodes.stop());
    // Plugins are set up before the server listens: the row gets its URL once it does (or now, on a reload).
    if (listening()) nodes.recordUrl();
    else events.subscribe<{ nodeId: string }>('kernel.listening', e => { if (e.payload.nodeId === nodeId) nodes.recordUrl(); });

    registerRoutes(http, { nodes, nodeId, transport: link.transport });
    provide(clusterLinkRef, { ...link, liveNodes: async () => (await nodes.live()).map(n => ({ id: n.id, url: n.url ?? null })) });
  },
});
