import type { SqlRunner } from 'plinth/sdk';
import { toJob, type Job, type JobStore } from './job-store';

/** The links between jobs: children wait for their parents, failures cascade, a crew is what links reach. */
export class JobGraph {
  constructor(private readonly store: JobStore) {}

  /** Moves queued children whose parents are all done to ready; answers them. */
  async promoteChildren(parentId: string, nowMs: number): Promise<Job[]> {
    const children = (await this.store.db.query(`SELECT child_id FROM ${this.store.links} WHERE parent_id = ?`, [parentId])).map(r => r.child_id);
    const out: Job[] = [];
    for (const c of children) {
      const j = await this.promoteWith(this.store.db, c, nowMs);
      if (j) out.push(j);
    }
    return out;
  }

  async promoteWith(db: SqlRunner, childId: string, nowMs: number): Promise<Job | undefined> {
    const rows = await db.query(
      `UPDATE ${this.store.jobs} SET state = 'ready', ready_ms = ?, run_after = ?, updated_ms = ? WHERE id = ? AND state = 'queued' AND NOT EXISTS (
         SELECT 1 FROM ${this.store.links} l JOIN ${this.store.jobs} p ON p.id = l.parent_id WHERE l.child_id = ? AND p.state <> 'done') RETURNING *`,
      [nowMs, nowMs, nowMs, childId, childId]);
    if (!rows.length) return undefined;
    await this.store.eventLog.addWith(db, [{ jobId: childId, type: 'state', data: { state: 'ready', reason: 'parents done' } }], nowMs);
    return toJob(rows[0]);
  }

  /**
   * Heals the race between creating a child and finishing its parent (the parent's follow-up may
   * not see a link that was not committed yet): queued jobs whose parents are all done become
   * ready, and those with a failed or cancelled parent fail. Run on every poll.
   */
  async settleQueued(nowMs: number): Promise<Job[]> {
    const j = this.store.jobs;
    const ready = await this.store.db.query(
      // Only a child whose links are all there: on SQLite this statement can run inside another
      // request's open insert, between the child's row and its links, and saw "no parent left".
      `UPDATE ${j} SET state = 'ready', ready_ms = ?, run_after = ?, updated_ms = ? WHERE state = 'queued'
         AND (SELECT COUNT(*) FROM ${this.store.links} c WHERE c.child_id = ${j}.id) = ${j}.parent_count AND NOT EXISTS (
         SELECT 1 FROM ${this.store.links} l JOIN ${j} p ON p.id = l.parent_id WHERE l.child_id = ${j}.id AND p.state <> 'done') RETURNING *`,
      [nowMs, nowMs, nowMs]);
    const failed = await this.store.db.query(
      `UPDATE ${j} SET state = 'failed', error = 'a parent failed or was cancelled', finished_ms = ?, updated_ms = ? WHERE state = 'queued' AND EXISTS (
         SELECT 1 FROM ${this.store.links} l JOIN ${j} p ON p.id = l.parent_id WHERE l.child_id = ${j}.id AND p.state IN ('failed', 'cancelled')) RETURNING *`,
      [nowMs, nowMs]);
    const jobs = [...ready, ...failed].map(toJob);
    await this.store.eventLog.add(jobs.map(x => ({ jobId: x.id, type: 'state', data: { state: x.state, reason: x.state === 'ready' ? 'parents done' : x.error } })), nowMs);
    return jobs;
  }

  /** Descendants still waiting can never run once a parent failed or was cancelled. */
  async cascade(parentId: string, to: 'failed' | 'cancelled', reason: string, nowMs: number): Promise<Job[]> {
    const out: Job[] = [];
    const queue = [parentId];
    const seen = new Set<string>();
    while (queue.length) {
      const id = queue.shift()!;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const r of await this.store.db.query(`SELECT child_id FROM ${this.store.links} WHERE parent_id = ?`, [id])) {
        const j = await this.store.transition(r.child_id, ['queued'], to, nowMs, { error: reason, reason });
        if (j) { out.push(j); queue.push(j.id); }
      }
    }
    return out;
  }

  async parents(id: string): Promise<Job[]> {
    return (await this.store.db.query(`SELECT j.* FROM ${this.store.jobs} j JOIN ${this.store.links} l ON l.parent_id = j.id WHERE l.child_id = ?`, [id])).map(toJob);
  }

  /** The crew around a job: every job reachable through links, both ways (bounded). */
  async crewOf(id: string, max = 500): Promise<{ jobs: Job[]; links: Array<{ parent: string; child: string }> }> {
    const seen = new Set<string>([id]);
    const links = new Map<string, { parent: string; child: string }>();
    let frontier = [id];
    while (frontier.length && seen.size < max) {
      const marks = frontier.map(() => '?').join(', ');
      const rows = await this.store.db.query(`SELECT parent_id, child_id FROM ${this.store.links} WHERE parent_id IN (${marks}) OR child_id IN (${marks})`, [...frontier, ...frontier]);
      frontier = [];
      for (const r of rows) {
        links.set(`${r.parent_id}>${r.child_id}`, { parent: r.parent_id, child: r.child_id });
        for (const x of [r.parent_id, r.child_id]) if (!seen.has(x)) { seen.add(x); frontier.push(x); }
      }
    }
    return { jobs: await this.store.getMany([...seen]), links: [...links.values()] };
  }
}
