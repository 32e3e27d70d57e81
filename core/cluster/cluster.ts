import { newId, type Clock, type Logger, type Timers } from '../../sdk';
import type { KernelEventBus } from '../events';
import type { RouteGroup } from '../http/routes';
import type { KernelDatabase } from '../storage/database';
import type { KernelSettings } from '../process-settings';
import { KERNEL_VERSION } from '../version';
import { registerClusterRoutes } from './cluster-routes';
import { ClusterEventRelay, PgSignalTransport, RedisSignalTransport, type SignalTransport } from './event-relay';
import { ConnectionLedger } from './connection-ledger';
import { NodeRegistry } from './node-registry';

export interface KernelCluster {
  readonly nodeId: string;
  readonly nodes: NodeRegistry;
  /** The bus's link to the other kernels; absent on SQLite (one kernel). */
  readonly relay: ClusterEventRelay | undefined;
  /** The per-user caps' link to the other kernels' counts (undefined on SQLite). */
  capLink(kind: 'sse' | 'ws'): { elsewhere(userId: string): number; changed(userId: string, n: number): void } | undefined;
  registerRoutes(group: RouteGroup): void;
  /** Records the node once the server listens (its URL is known then). */
  listening(): Promise<void>;
  stop(): Promise<void>;
}

const processTimers: Timers = {
  setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); t.unref(); return () => clearTimeout(t); },
  setInterval: (fn, ms) => { const t = setInterval(fn, ms); t.unref(); return () => clearInterval(t); },
};

/**
 * This kernel as one node of several on one database: its `kernel_nodes` row and heartbeat, and
 * on PostgreSQL the event relay (NOTIFY, or Redis where `PLINTH_REDIS_URL` is set) that makes
 * every kernel's events reach this kernel's subscribers. With SQLite the node row exists (one
 * node) and events stay in the process.
 */
export async function startCluster(env: {
  settings: KernelSettings; db: KernelDatabase; bus: KernelEventBus; log: Logger; clock: Clock; timers?: Timers; url(): string | null;
}): Promise<KernelCluster> {
  const { settings, db, bus, log } = env;
  const nodeId = newId('node');
  let relay: ClusterEventRelay | undefined;
  let transport: SignalTransport | undefined;
  let ledger: ConnectionLedger | undefined;
  if (db.dialect === 'postgres') {
    transport = settings.redisUrl ? new RedisSignalTransport(settings.redisUrl, settings.databaseUrl!, log) : new PgSignalTransport(settings.databaseUrl!, db, log);
    relay = new ClusterEventRelay({ nodeId, db, transport, log, deliver: e => bus.deliverRemote(e) });
    await relay.start();
    bus.attachRelay(relay);
    ledger = new ConnectionLedger({ db, nodeId, now: () => env.clock.now(), log });
  }
  const nodes = new NodeRegistry({
    db, nodeId, version: KERNEL_VERSION, clock: env.clock, timers: env.timers ?? processTimers, log,
    url: () => settings.nodeUrl ?? env.url(),
    onBeat: relay ? async now => { await relay!.prune(now); await ledger!.refresh(); } : undefined,
  });
  let recorded = false;
  return {
    nodeId, nodes, relay,
    capLink: kind => ledger && { elsewhere: userId => ledger!.count(kind, userId), changed: (userId, n) => ledger!.changed(kind, userId, n) },
    registerRoutes: group => registerClusterRoutes(group, { nodes, nodeId, transport: transport?.name ?? null }),
    listening: async () => { await nodes.start(); recorded = true; },
    stop: async () => {
      await ledger?.clear().catch(() => undefined);
      if (recorded) await nodes.stop();
      await relay?.close();
    },
  };
}
