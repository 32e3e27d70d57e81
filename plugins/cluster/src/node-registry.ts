import type { Clock, Disposer, Logger, SqlRunner, Timers } from 'plinth/sdk';

export const HEARTBEAT_MS = 5_000;
/** A node whose last heartbeat is older than this is dead to the others (three missed beats). */
export const NODE_LAPSE_MS = 3 * HEARTBEAT_MS;

export interface KernelNode {
  id: string;
  url: string | null;
  version: string;
  startedAt: string;
  lastHeartbeat: string;
  self: boolean;
}

/**
 * The nodes table: every kernel records itself and beats through the injected clock and timers;
 * `live()` is what the others believe. A kernel that stops cleanly removes its row. The row's URL
 * is the kernel's once it listens (plugins are set up before that): `recordUrl()`.
 */
export class NodeRegistry {
  private stopBeat: Disposer | undefined;
  private urlRecorded: Promise<void> = Promise.resolve();

  constructor(private readonly opts: {
    db: SqlRunner; nodeId: string; generation: number; version: string; clock: Clock; timers: Timers; log: Logger;
    url(): string | null;
    /** Work done on each beat (pruning the event relay, reading other kernels' connection counts). */
    onBeat?(now: number): Promise<void>;
  }) {}

  private get table() { return this.opts.db.table('nodes'); }

  async start(): Promise<void> {
    const { db, nodeId, version, clock, generation } = this.opts;
    const now = clock.now();
    // A reload's new generation takes over the row of the one it replaces.
    await db.query(`INSERT INTO ${this.table} (id, url, version, started_at, heartbeat_at, generation) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET url = excluded.url, heartbeat_at = excluded.heartbeat_at, generation = excluded.generation`,
      [nodeId, this.opts.url(), version, new Date(now).toISOString(), now, generation]);
    this.stopBeat = this.opts.timers.setInterval(() => {
      this.beat().catch(err => this.opts.log.warn('heartbeat failed', { err }));
    }, HEARTBEAT_MS);
  }

  /** Records the URL now that the kernel listens; `live()` waits for it. */
  recordUrl(): void {
    this.urlRecorded = this.opts.db.query(`UPDATE ${this.table} SET url = ? WHERE id = ?`, [this.opts.url(), this.opts.nodeId])
      .then(() => undefined, err => this.opts.log.warn('recording the node URL failed', { err }));
  }

  async beat(): Promise<void> {
    const now = this.opts.clock.now();
    await this.opts.db.query(`UPDATE ${this.table} SET heartbeat_at = ?, url = ? WHERE id = ?`, [now, this.opts.url(), this.opts.nodeId]);
    // Rows of nodes dead for a day are history nobody reads.
    await this.opts.db.query(`DELETE FROM ${this.table} WHERE heartbeat_at < ?`, [now - 24 * 3600_000]);
    await this.opts.onBeat?.(now);
  }

  async live(): Promise<KernelNode[]> {
    await this.urlRecorded;
    const now = this.opts.clock.now();
    const rows = await this.opts.db.query(`SELECT * FROM ${this.table} WHERE heartbeat_at >= ? ORDER BY started_at, id`, [now - NODE_LAPSE_MS]);
    return rows.map((r: any) => ({
      id: r.id, url: r.url, version: r.version, startedAt: r.started_at,
      lastHeartbeat: new Date(Number(r.heartbeat_at)).toISOString(), self: r.id === this.opts.nodeId,
    }));
  }

  /** Removes the row unless a newer generation (a reload) has taken it over. */
  async stop(): Promise<void> {
    this.stopBeat?.();
    await this.opts.db.query(`DELETE FROM ${this.table} WHERE id = ? AND generation = ?`, [this.opts.nodeId, this.opts.generation]).catch(() => undefined);
  }
}
