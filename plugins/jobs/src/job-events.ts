import { iso, type SqlRunner } from 'plinth/sdk';
import { json, type JobEvent, type JobStore } from './job-store';

/** Each job's append-only event log (state changes, logs, comments), live through `onEvents`. */
export class JobEventLog {
  constructor(private readonly store: JobStore) {}

  async add(items: Array<{ jobId: string; type: string; data: unknown }>, nowMs: number): Promise<JobEvent[]> {
    return this.store.eventLog.addWith(this.store.db, items, nowMs);
  }

  async addWith(db: SqlRunner, items: Array<{ jobId: string; type: string; data: unknown }>, nowMs: number): Promise<JobEvent[]> {
    if (!items.length) return [];
    const rows = await db.query(`INSERT INTO ${this.store.events} (job_id, type, data, at_ms) VALUES ${items.map(() => '(?, ?, ?, ?)').join(', ')} RETURNING *`,
      items.flatMap(i => [i.jobId, i.type, JSON.stringify(i.data), nowMs]));
    const evs = rows.map(toEvent).sort((a, b) => a.seq - b.seq);
    this.onEvents?.(evs);
    return evs;
  }

  /** Set by the service: where new events go live (SSE, the bus). */
  onEvents?: (events: JobEvent[]) => void;

  async of(jobId: string, afterSeq: number, limit = 1000, types?: string[]): Promise<JobEvent[]> {
    const t = types?.length ? ` AND type IN (${types.map(() => '?').join(', ')})` : '';
    return (await this.store.db.query(`SELECT * FROM ${this.store.events} WHERE job_id = ? AND seq > ?${t} ORDER BY seq LIMIT ${limit}`, [jobId, afterSeq, ...(types ?? [])])).map(toEvent);
  }
}

function toEvent(r: any): JobEvent {
  return { seq: Number(r.seq), jobId: r.job_id, type: r.type, data: json(r.data), at: iso(r.at_ms)! };
}
