import { iso } from 'plinth/sdk';
import type { JobStore } from './job-store';

/** Each kernel's dispatcher beats here, so the admin sees which are alive and how busy. */
export class DispatcherHeartbeats {
  constructor(private readonly store: JobStore) {}

  async beat(kernelId: string, host: string, startedMs: number, nowMs: number, running: number): Promise<void> {
    const updated = await this.store.db.query(`UPDATE ${this.store.dispatchers} SET heartbeat_ms = ?, running = ? WHERE kernel_id = ? RETURNING kernel_id`, [nowMs, running, kernelId]);
    if (!updated.length) await this.store.db.query(`INSERT INTO ${this.store.dispatchers} (kernel_id, host, started_ms, heartbeat_ms, running) VALUES (?, ?, ?, ?, ?)`, [kernelId, host, startedMs, nowMs, running]);
  }

  async rows(sinceMs: number) {
    await this.store.db.query(`DELETE FROM ${this.store.dispatchers} WHERE heartbeat_ms < ?`, [sinceMs - 3_600_000]);
    return (await this.store.db.query(`SELECT * FROM ${this.store.dispatchers} ORDER BY heartbeat_ms DESC`))
      .map(r => ({ kernelId: r.kernel_id, host: r.host, startedAt: iso(r.started_ms), heartbeatAt: iso(r.heartbeat_ms), heartbeatMs: Number(r.heartbeat_ms), running: Number(r.running) }));
  }
}
