import { iso, newId } from 'plinth/sdk';
import type { JobStore } from './job-store';

/** People's comments on a job; each one is also an event in the job's log. */
export class JobComments {
  constructor(private readonly store: JobStore) {}

  async add(jobId: string, author: string, text: string, nowMs: number) {
    const id = newId('cmt');
    await this.store.db.query(`INSERT INTO ${this.store.comments} (id, job_id, author, text, created_ms) VALUES (?, ?, ?, ?, ?)`, [id, jobId, author, text, nowMs]);
    await this.store.eventLog.add([{ jobId, type: 'comment', data: { id, author, text } }], nowMs);
    return { id, jobId, author, text, createdAt: iso(nowMs)! };
  }

  async of(jobId: string) {
    return (await this.store.db.query(`SELECT * FROM ${this.store.comments} WHERE job_id = ? ORDER BY created_ms, id`, [jobId]))
      .map(r => ({ id: r.id, jobId: r.job_id, author: r.author, text: r.text, createdAt: iso(r.created_ms)! }));
  }
}
