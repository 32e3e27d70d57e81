import { claimLeased } from 'plinth/sdk';
import { toJob, type Job, type JobState, type JobStore } from './job-store';

/** A kernel's hold on running jobs: claim, renew, expire and end an attempt, each guarded by the lease. */
export class JobLeases {
  constructor(private readonly store: JobStore) {}

  /** Claims up to `limit` ready jobs for this kernel: the state check in the UPDATE decides races. */
  async claim(kernelId: string, limit: number, nowMs: number, leaseMs: number): Promise<Job[]> {
    const rows = await claimLeased(this.store.db, {
      table: this.store.jobs,
      set: `state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1, started_ms = ?, updated_ms = ?, pid = NULL`,
      setParams: [kernelId, nowMs + leaseMs, nowMs, nowMs],
      where: `state = 'ready' AND run_after <= ?`, whereParams: [nowMs],
      orderBy: 'run_after, created_ms', limit,
    });
    const jobs = rows.map(toJob);
    if (jobs.length) await this.store.eventLog.add(jobs.map(j => ({ jobId: j.id, type: 'state', data: { state: 'running', attempt: j.attempts, kernel: kernelId } })), nowMs);
    return jobs;
  }

  /** Renews this kernel's leases; answers the ids it still holds (a cancelled or reclaimed job is not among them). */
  async renew(kernelId: string, ids: string[], untilMs: number): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await this.store.db.query(
      `UPDATE ${this.store.jobs} SET lease_until = ? WHERE lease_owner = ? AND state IN ('running', 'blocked') AND id IN (${ids.map(() => '?').join(', ')}) RETURNING id`,
      [untilMs, kernelId, ...ids]);
    return new Set(rows.map(r => r.id));
  }

  async expiredLeases(nowMs: number, limit = 100): Promise<Job[]> {
    return (await this.store.db.query(`SELECT * FROM ${this.store.jobs} WHERE state = 'running' AND lease_until < ? ORDER BY lease_until LIMIT ${limit}`, [nowMs])).map(toJob);
  }

  /** Ends an attempt (success or failure), guarded by the lease so a reclaimed job is not overwritten. */
  async finishAttempt(job: Job, kernelId: string | null, to: { state: JobState; result?: unknown; error?: string | null; runAfter?: number; reason: string }, nowMs: number, fromState: JobState = 'running'): Promise<Job | undefined> {
    const terminal = to.state === 'done' || to.state === 'failed';
    const rows = await this.store.db.query(
      `UPDATE ${this.store.jobs} SET state = ?, result = ?, error = ?, run_after = ?, lease_owner = NULL, lease_until = NULL, pid = NULL, updated_ms = ?,
         finished_ms = ?, ready_ms = ? WHERE id = ? AND state = ? AND ${kernelId ? 'lease_owner = ?' : 'lease_until < ?'} RETURNING *`,
      [to.state, to.result === undefined ? (job.result === null ? null : JSON.stringify(job.result)) : JSON.stringify(to.result), to.error ?? null,
        to.runAfter ?? job.runAfter, nowMs, terminal ? nowMs : null, to.state === 'ready' ? (to.runAfter ?? nowMs) : null, job.id, fromState, kernelId ?? nowMs]);
    if (!rows.length) return undefined;
    await this.store.eventLog.add([{ jobId: job.id, type: 'state', data: { state: to.state, attempt: job.attempts, reason: to.reason, ...(to.error ? { error: to.error } : {}) } }], nowMs);
    return toJob(rows[0]);
  }

  /** A job that finished while blocked keeps its result and stays blocked for a human. */
  async finishBlocked(id: string, kernelId: string, result: unknown, nowMs: number): Promise<void> {
    await this.store.db.query(`UPDATE ${this.store.jobs} SET result = ?, lease_owner = NULL, lease_until = NULL, pid = NULL, updated_ms = ? WHERE id = ? AND state = 'blocked' AND lease_owner = ?`,
      [result === undefined ? null : JSON.stringify(result), nowMs, id, kernelId]);
  }

  async setPid(id: string, kernelId: string, pid: number): Promise<void> {
    await this.store.db.query(`UPDATE ${this.store.jobs} SET pid = ? WHERE id = ? AND lease_owner = ?`, [pid, id, kernelId]);
  }
}
