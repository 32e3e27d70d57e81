import type { Logger, SqlRunner } from 'plinth/sdk';
import { NODE_LAPSE_MS } from './node-registry';

/**
 * Open SSE streams and WebSockets per user on the other kernels, so the per-user caps count across
 * a cluster. Each kernel writes its own counts (one row per node, kind and user) when they change
 * and reads the others' (live nodes only) when a user opens a connection and on each heartbeat.
 * The check itself stays synchronous (a stream is opened inside a handler that cannot wait), so a
 * burst spread over kernels within one round trip may pass the cap by the number of kernels.
 * A stopped node's rows stop counting with its node row (the join), and go on the next beat.
 */
export class ConnectionLedger {
  private readonly elsewhere = new Map<string, number>();
  private readonly dirty = new Map<string, number>();
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly opts: { db: SqlRunner; nodeId: string; now(): number; log: Logger }) {}

  private get table() { return this.opts.db.table('user_connections'); }

  /** Connections of this kind the user holds on other kernels, as last read. */
  count(kind: string, userId: string): number {
    void this.refresh(kind, userId);
    return this.elsewhere.get(`${kind}\n${userId}`) ?? 0;
  }

  /** This kernel's count for the user changed. */
  changed(kind: string, userId: string, n: number): void {
    this.dirty.set(`${kind}\n${userId}`, n);
    this.flushing = this.flushing.then(() => this.flush()).catch(err => this.opts.log.warn('recording connection counts failed', { err }));
  }

  async flush(): Promise<void> {
    const batch = [...this.dirty];
    this.dirty.clear();
    for (const [key, n] of batch) {
      const [kind, userId] = key.split('\n');
      await this.opts.db.query(
        `INSERT INTO ${this.table} (node_id, kind, user_id, n) VALUES (?, ?, ?, ?) ON CONFLICT (node_id, kind, user_id) DO UPDATE SET n = excluded.n`,
        [this.opts.nodeId, kind, userId, n]);
    }
  }

  async refresh(kind?: string, userId?: string): Promise<void> {
    const nodes = this.opts.db.table('nodes');
    const filter = kind ? ' AND c.kind = ? AND c.user_id = ?' : '';
    const rows = await this.opts.db.query<{ kind: string; user_id: string; n: number | string }>(
      `SELECT c.kind, c.user_id, SUM(c.n) AS n FROM ${this.table} c JOIN ${nodes} nd ON nd.id = c.node_id
        WHERE c.node_id <> ? AND nd.heartbeat_at >= ?${filter} GROUP BY c.kind, c.user_id`,
      [this.opts.nodeId, this.opts.now() - NODE_LAPSE_MS, ...(kind ? [kind, userId] : [])]).catch(err => { this.opts.log.warn('reading connection counts failed', { err }); return undefined; });
    if (!rows) return;
    if (kind) this.elsewhere.delete(`${kind}\n${userId}`);
    else this.elsewhere.clear();
    for (const r of rows) this.elsewhere.set(`${r.kind}\n${r.user_id}`, Number(r.n));
  }

  /** Counts of nodes that are gone (stopped, or dead for a day). */
  async prune(): Promise<void> {
    await this.opts.db.query(`DELETE FROM ${this.table} WHERE node_id NOT IN (SELECT id FROM ${this.opts.db.table('nodes')})`);
  }
}
