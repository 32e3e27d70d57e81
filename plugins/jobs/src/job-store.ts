import { claimLeased, iso, keysetPage, newId, serialKey, type Migration, type PluginDatabase, type SqlRunner } from 'plinth/sdk';

export type JobState = 'queued' | 'ready' | 'running' | 'blocked' | 'done' | 'failed' | 'cancelled' | 'archived';
export const ACTIVE: JobState[] = ['queued', 'ready', 'running', 'blocked'];

export interface Job {
  id: string;
  owner: string;
  kind: string;
  title: string | null;
  request: Record<string, unknown>;
  state: JobState;
  attempts: number;
  maxRetries: number;
  result: unknown;
  resultSchema: Record<string, unknown> | null;
  error: string | null;
  feedback: string | null;
  continuity: 'fresh' | 'resume' | null;
  processScope: string | null;
  crewId: string | null;
  step: string | null;
  template: string | null;
  source: string | null;
  idempotencyKey: string | null;
  leaseOwner: string | null;
  leaseUntil: number | null;
  runAfter: number;
  pid: number | null;
  childCount: number;
  parentCount: number;
  createdAt: string;
  updatedAt: string;
  readyAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobEvent { seq: number; jobId: string; type: string; data: any; at: string }

export const migrations: Migration[] = [
  {
    name: '001-jobs',
    async up(db) {
      await db.query(`CREATE TABLE ${db.table('jobs')} (
        id VARCHAR(40) PRIMARY KEY, owner VARCHAR(40) NOT NULL, kind VARCHAR(64) NOT NULL, title TEXT, request TEXT NOT NULL,
        state VARCHAR(16) NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, max_retries INTEGER NOT NULL, result TEXT, result_schema TEXT,
        error TEXT, feedback TEXT, continuity VARCHAR(16), process_scope VARCHAR(200), crew_id VARCHAR(40), step VARCHAR(100),
        template VARCHAR(200), source VARCHAR(200), idempotency_key VARCHAR(300) UNIQUE, lease_owner VARCHAR(60), lease_until BIGINT,
        run_after BIGINT NOT NULL, pid INTEGER, child_count INTEGER NOT NULL DEFAULT 0, parent_count INTEGER NOT NULL DEFAULT 0, created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL,
        ready_ms BIGINT, started_ms BIGINT, finished_ms BIGINT)`);
      await db.query(`CREATE INDEX ${db.table('jobs_dispatch')} ON ${db.table('jobs')} (state, run_after)`);
      await db.query(`CREATE INDEX ${db.table('jobs_owner')} ON ${db.table('jobs')} (owner, created_ms)`);
      await db.query(`CREATE INDEX ${db.table('jobs_created')} ON ${db.table('jobs')} (created_ms)`);
      await db.query(`CREATE INDEX ${db.table('jobs_crew')} ON ${db.table('jobs')} (crew_id)`);
      await db.query(`CREATE TABLE ${db.table('links')} (parent_id VARCHAR(40) NOT NULL, child_id VARCHAR(40) NOT NULL, PRIMARY KEY (parent_id, child_id))`);
      await db.query(`CREATE INDEX ${db.table('links_child')} ON ${db.table('links')} (child_id)`);
      await db.query(`CREATE TABLE ${db.table('events')} (seq ${serialKey(db.dialect)}, job_id VARCHAR(40) NOT NULL, type VARCHAR(32) NOT NULL, data TEXT, at_ms BIGINT NOT NULL)`);
      await db.query(`CREATE INDEX ${db.table('events_job')} ON ${db.table('events')} (job_id, seq)`);
      await db.query(`CREATE TABLE ${db.table('comments')} (id VARCHAR(40) PRIMARY KEY, job_id VARCHAR(40) NOT NULL, author VARCHAR(40) NOT NULL, text TEXT NOT NULL, created_ms BIGINT NOT NULL)`);
      await db.query(`CREATE INDEX ${db.table('comments_job')} ON ${db.table('comments')} (job_id, created_ms)`);
      await db.query(`CREATE TABLE ${db.table('dispatchers')} (kernel_id VARCHAR(60) PRIMARY KEY, host VARCHAR(200) NOT NULL, started_ms BIGINT NOT NULL, heartbeat_ms BIGINT NOT NULL, running INTEGER NOT NULL)`);
    },
  },
];

const json = (text: unknown) => (text === null || text === undefined ? null : JSON.parse(String(text)));
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export function toJob(r: any): Job {
  return {
    id: r.id, owner: r.owner, kind: r.kind, title: r.title ?? null, request: json(r.request) ?? {}, state: r.state,
    attempts: Number(r.attempts), maxRetries: Number(r.max_retries), result: json(r.result), resultSchema: json(r.result_schema),
    error: r.error ?? null, feedback: r.feedback ?? null, continuity: r.continuity ?? null, processScope: r.process_scope ?? null,
    crewId: r.crew_id ?? null, step: r.step ?? null, template: r.template ?? null, source: r.source ?? null,
    idempotencyKey: r.idempotency_key ?? null, leaseOwner: r.lease_owner ?? null, leaseUntil: num(r.lease_until), runAfter: Number(r.run_after),
    pid: num(r.pid), childCount: Number(r.child_count ?? 0), parentCount: Number(r.parent_count ?? 0), createdAt: iso(r.created_ms)!, updatedAt: iso(r.updated_ms)!,
    readyAt: iso(r.ready_ms), startedAt: iso(r.started_ms), finishedAt: iso(r.finished_ms),
  };
}

export interface NewJob {
  owner: string; kind: string; title?: string | null; request: Record<string, unknown>; maxRetries: number;
  resultSchema?: Record<string, unknown> | null; continuity?: string | null; processScope?: string | null; crewId?: string | null;
  step?: string | null; template?: string | null; source?: string | null; idempotencyKey?: string | null; parents?: string[]; runAfter?: number;
}

/** All job state lives here; every transition is one guarded UPDATE, so two kernels can never both win. */
export class JobStore {
  readonly jobs: string;
  readonly links: string;
  readonly events: string;
  readonly comments: string;
  readonly dispatchers: string;

  constructor(readonly db: PluginDatabase) {
    this.jobs = db.table('jobs');
    this.links = db.table('links');
    this.events = db.table('events');
    this.comments = db.table('comments');
    this.dispatchers = db.table('dispatchers');
  }

  /**
   * Inserts a job (and its links) in one transaction. With an idempotency key already used, the
   * INSERT does nothing and the first job is answered (`created: false`).
   */
  async insert(jobs: Array<NewJob & { id?: string }>, nowMs: number): Promise<Array<{ job: Job; created: boolean }>> {
    const simple = jobs.length === 1 && !jobs[0].parents?.length;
    return this.inTransaction(simple, async tx => {
      const out: Array<{ job: Job; created: boolean }> = [];
      for (const j of jobs) {
        const id = j.id ?? newId('job');
        const parents = j.parents ?? [];
        const state: JobState = parents.length ? 'queued' : 'ready';
        const rows = await tx.query(
          `INSERT INTO ${this.jobs} (id, owner, kind, title, request, state, attempts, max_retries, result_schema, continuity, process_scope,
             crew_id, step, template, source, idempotency_key, run_after, created_ms, updated_ms, ready_ms, parent_count)
           VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
          [id, j.owner, j.kind, j.title ?? null, JSON.stringify(j.request), state, j.maxRetries, j.resultSchema ? JSON.stringify(j.resultSchema) : null,
            j.continuity ?? null, j.processScope ?? null, j.crewId ?? null, j.step ?? null, j.template ?? null, j.source ?? null,
            j.idempotencyKey ?? null, j.runAfter ?? nowMs, nowMs, nowMs, state === 'ready' ? nowMs : null, parents.length]);
        if (!rows.length) {
          const [existing] = await tx.query(`SELECT * FROM ${this.jobs} WHERE idempotency_key = ?`, [j.idempotencyKey]);
          out.push({ job: toJob(existing), created: false });
          continue;
        }
        for (const p of parents) {
          await tx.query(`INSERT INTO ${this.links} (parent_id, child_id) VALUES (?, ?)`, [p, id]);
          await tx.query(`UPDATE ${this.jobs} SET child_count = child_count + 1 WHERE id = ?`, [p]);
        }
        await this.addEventsWith(tx, [{ jobId: id, type: 'state', data: { state } }], nowMs);
        out.push({ job: toJob(rows[0]), created: true });
      }
      // A parent that is already done releases its new child at once; one that already failed fails it.
      for (const o of out) {
        if (!o.created || o.job.state !== 'queued') continue;
        o.job = (await this.promoteWith(tx, o.job.id, nowMs)) ?? o.job;
        const [dead] = await tx.query(`SELECT p.id, p.state FROM ${this.links} l JOIN ${this.jobs} p ON p.id = l.parent_id WHERE l.child_id = ? AND p.state IN ('failed', 'cancelled')`, [o.job.id]);
        if (dead) {
          const reason = `parent ${dead.id} ${dead.state === 'failed' ? 'failed' : 'was cancelled'}`;
          const [row] = await tx.query(`UPDATE ${this.jobs} SET state = ?, error = ?, finished_ms = ?, updated_ms = ? WHERE id = ? RETURNING *`, [dead.state, reason, nowMs, nowMs, o.job.id]);
          await this.addEventsWith(tx, [{ jobId: o.job.id, type: 'state', data: { state: dead.state, reason } }], nowMs);
          o.job = toJob(row);
        }
      }
      return out;
    });
  }

  /**
   * Many jobs without parents: one multi-row INSERT per chunk that skips used idempotency keys,
   * then one lookup for those. Answers in input order.
   */
  async insertMany(jobs: NewJob[], nowMs: number): Promise<Array<{ job: Job; created: boolean }>> {
    const out: Array<{ job: Job; created: boolean }> = [];
    for (let i = 0; i < jobs.length; i += 400) {
      const chunk = jobs.slice(i, i + 400).map(j => ({ ...j, id: newId('job') }));
      const rows = await this.db.query(
        `INSERT INTO ${this.jobs} (id, owner, kind, title, request, state, attempts, max_retries, source, idempotency_key, run_after, created_ms, updated_ms, ready_ms)
         VALUES ${chunk.map(() => `(?, ?, ?, ?, ?, 'ready', 0, ?, ?, ?, ?, ?, ?, ?)`).join(', ')} ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
        chunk.flatMap(j => [j.id, j.owner, j.kind, j.title ?? null, JSON.stringify(j.request), j.maxRetries, j.source ?? null, j.idempotencyKey ?? null, nowMs, nowMs, nowMs, nowMs]));
      const created = new Map(rows.map(r => [r.id, toJob(r)]));
      const missing = chunk.filter(j => !created.has(j.id)).map(j => j.idempotencyKey!);
      const existing = new Map<string, Job>();
      if (missing.length) {
        for (const r of await this.db.query(`SELECT * FROM ${this.jobs} WHERE idempotency_key IN (${missing.map(() => '?').join(', ')})`, missing)) existing.set(r.idempotency_key, toJob(r));
      }
      await this.addEvents([...created.values()].map(j => ({ jobId: j.id, type: 'state', data: { state: 'ready' } })), nowMs);
      for (const j of chunk) out.push(created.has(j.id) ? { job: created.get(j.id)!, created: true } : { job: existing.get(j.idempotencyKey!)!, created: false });
    }
    return out;
  }

  private txTail: Promise<unknown> = Promise.resolve();

  /**
   * SQLite runs every TypeORM query runner on one connection, so two transactions at once would
   * nest a BEGIN; they are queued here. A lone INSERT needs none.
   */
  private inTransaction<T>(skip: boolean, fn: (db: SqlRunner) => Promise<T>): Promise<T> {
    if (skip) return fn(this.db);
    const run = this.txTail.then(() => this.db.transaction(tx => fn(tx)));
    this.txTail = run.catch(() => undefined);
    return run;
  }

  async get(id: string): Promise<Job | undefined> {
    const [row] = await this.db.query(`SELECT * FROM ${this.jobs} WHERE id = ?`, [id]);
    return row ? toJob(row) : undefined;
  }

  async getMany(ids: string[]): Promise<Job[]> {
    if (!ids.length) return [];
    return (await this.db.query(`SELECT * FROM ${this.jobs} WHERE id IN (${ids.map(() => '?').join(', ')})`, ids)).map(toJob);
  }

  async list(f: { owner?: string; state?: string; kind?: string; limit: number; cursor?: { ms: number; id: string } }): Promise<Job[]> {
    const rows = await keysetPage(this.db, { table: this.jobs, equal: { owner: f.owner, state: f.state, kind: f.kind }, cursor: f.cursor, limit: f.limit });
    return rows.map(toJob);
  }

  /** Claims up to `limit` ready jobs for this kernel: the state check in the UPDATE decides races. */
  async claim(kernelId: string, limit: number, nowMs: number, leaseMs: number): Promise<Job[]> {
    const rows = await claimLeased(this.db, {
      table: this.jobs,
      set: `state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1, started_ms = ?, updated_ms = ?, pid = NULL`,
      setParams: [kernelId, nowMs + leaseMs, nowMs, nowMs],
      where: `state = 'ready' AND run_after <= ?`, whereParams: [nowMs],
      orderBy: 'run_after, created_ms', limit,
    });
    const jobs = rows.map(toJob);
    if (jobs.length) await this.addEvents(jobs.map(j => ({ jobId: j.id, type: 'state', data: { state: 'running', attempt: j.attempts, kernel: kernelId } })), nowMs);
    return jobs;
  }

  /** Renews this kernel's leases; answers the ids it still holds (a cancelled or reclaimed job is not among them). */
  async renew(kernelId: string, ids: string[], untilMs: number): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await this.db.query(
      `UPDATE ${this.jobs} SET lease_until = ? WHERE lease_owner = ? AND state IN ('running', 'blocked') AND id IN (${ids.map(() => '?').join(', ')}) RETURNING id`,
      [untilMs, kernelId, ...ids]);
    return new Set(rows.map(r => r.id));
  }

  async expiredLeases(nowMs: number, limit = 100): Promise<Job[]> {
    return (await this.db.query(`SELECT * FROM ${this.jobs} WHERE state = 'running' AND lease_until < ? ORDER BY lease_until LIMIT ${limit}`, [nowMs])).map(toJob);
  }

  /** Ends an attempt (success or failure), guarded by the lease so a reclaimed job is not overwritten. */
  async finishAttempt(job: Job, kernelId: string | null, to: { state: JobState; result?: unknown; error?: string | null; runAfter?: number; reason: string }, nowMs: number, fromState: JobState = 'running'): Promise<Job | undefined> {
    const terminal = to.state === 'done' || to.state === 'failed';
    const rows = await this.db.query(
      `UPDATE ${this.jobs} SET state = ?, result = ?, error = ?, run_after = ?, lease_owner = NULL, lease_until = NULL, pid = NULL, updated_ms = ?,
         finished_ms = ?, ready_ms = ? WHERE id = ? AND state = ? AND ${kernelId ? 'lease_owner = ?' : 'lease_until < ?'} RETURNING *`,
      [to.state, to.result === undefined ? (job.result === null ? null : JSON.stringify(job.result)) : JSON.stringify(to.result), to.error ?? null,
        to.runAfter ?? job.runAfter, nowMs, terminal ? nowMs : null, to.state === 'ready' ? (to.runAfter ?? nowMs) : null, job.id, fromState, kernelId ?? nowMs]);
    if (!rows.length) return undefined;
    await this.addEvents([{ jobId: job.id, type: 'state', data: { state: to.state, attempt: job.attempts, reason: to.reason, ...(to.error ? { error: to.error } : {}) } }], nowMs);
    return toJob(rows[0]);
  }

  /** A job that finished while blocked keeps its result and stays blocked for a human. */
  async finishBlocked(id: string, kernelId: string, result: unknown, nowMs: number): Promise<void> {
    await this.db.query(`UPDATE ${this.jobs} SET result = ?, lease_owner = NULL, lease_until = NULL, pid = NULL, updated_ms = ? WHERE id = ? AND state = 'blocked' AND lease_owner = ?`,
      [result === undefined ? null : JSON.stringify(result), nowMs, id, kernelId]);
  }

  /** A generic guarded transition for the human-driven routes. */
  async transition(id: string, from: JobState[], to: JobState, nowMs: number, extra: { error?: string | null; feedback?: string | null; resetAttempts?: boolean; reason?: string } = {}): Promise<Job | undefined> {
    const sets = ['state = ?', 'updated_ms = ?'];
    const params: unknown[] = [to, nowMs];
    if (extra.error !== undefined) { sets.push('error = ?'); params.push(extra.error); }
    if (extra.feedback !== undefined) { sets.push('feedback = ?'); params.push(extra.feedback); }
    if (extra.resetAttempts) sets.push('attempts = 0');
    if (to === 'ready') { sets.push('run_after = ?', 'ready_ms = ?'); params.push(nowMs, nowMs); }
    if (to === 'cancelled' || to === 'failed') { sets.push('finished_ms = ?'); params.push(nowMs); }
    if (to !== 'blocked') sets.push('lease_owner = NULL', 'lease_until = NULL');
    const rows = await this.db.query(`UPDATE ${this.jobs} SET ${sets.join(', ')} WHERE id = ? AND state IN (${from.map(() => '?').join(', ')}) RETURNING *`, [...params, id, ...from]);
    if (!rows.length) return undefined;
    await this.addEvents([{ jobId: id, type: 'state', data: { state: to, ...(extra.reason ? { reason: extra.reason } : {}) } }], nowMs);
    return toJob(rows[0]);
  }

  async setPid(id: string, kernelId: string, pid: number): Promise<void> {
    await this.db.query(`UPDATE ${this.jobs} SET pid = ? WHERE id = ? AND lease_owner = ?`, [pid, id, kernelId]);
  }

  /** Moves queued children whose parents are all done to ready; answers them. */
  async promoteChildren(parentId: string, nowMs: number): Promise<Job[]> {
    const children = (await this.db.query(`SELECT child_id FROM ${this.links} WHERE parent_id = ?`, [parentId])).map(r => r.child_id);
    const out: Job[] = [];
    for (const c of children) {
      const j = await this.promoteWith(this.db, c, nowMs);
      if (j) out.push(j);
    }
    return out;
  }

  private async promoteWith(db: SqlRunner, childId: string, nowMs: number): Promise<Job | undefined> {
    const rows = await db.query(
      `UPDATE ${this.jobs} SET state = 'ready', ready_ms = ?, run_after = ?, updated_ms = ? WHERE id = ? AND state = 'queued' AND NOT EXISTS (
         SELECT 1 FROM ${this.links} l JOIN ${this.jobs} p ON p.id = l.parent_id WHERE l.child_id = ? AND p.state <> 'done') RETURNING *`,
      [nowMs, nowMs, nowMs, childId, childId]);
    if (!rows.length) return undefined;
    await this.addEventsWith(db, [{ jobId: childId, type: 'state', data: { state: 'ready', reason: 'parents done' } }], nowMs);
    return toJob(rows[0]);
  }

  /**
   * Heals the race between creating a child and finishing its parent (the parent's follow-up may
   * not see a link that was not committed yet): queued jobs whose parents are all done become
   * ready, and those with a failed or cancelled parent fail. Run on every poll.
   */
  async settleQueued(nowMs: number): Promise<Job[]> {
    const j = this.jobs;
    const ready = await this.db.query(
      // Only a child whose links are all there: on SQLite this statement can run inside another
      // request's open insert, between the child's row and its links, and saw "no parent left".
      `UPDATE ${j} SET state = 'ready', ready_ms = ?, run_after = ?, updated_ms = ? WHERE state = 'queued'
         AND (SELECT COUNT(*) FROM ${this.links} c WHERE c.child_id = ${j}.id) = ${j}.parent_count AND NOT EXISTS (
         SELECT 1 FROM ${this.links} l JOIN ${j} p ON p.id = l.parent_id WHERE l.child_id = ${j}.id AND p.state <> 'done') RETURNING *`,
      [nowMs, nowMs, nowMs]);
    const failed = await this.db.query(
      `UPDATE ${j} SET state = 'failed', error = 'a parent failed or was cancelled', finished_ms = ?, updated_ms = ? WHERE state = 'queued' AND EXISTS (
         SELECT 1 FROM ${this.links} l JOIN ${j} p ON p.id = l.parent_id WHERE l.child_id = ${j}.id AND p.state IN ('failed', 'cancelled')) RETURNING *`,
      [nowMs, nowMs]);
    const jobs = [...ready, ...failed].map(toJob);
    await this.addEvents(jobs.map(x => ({ jobId: x.id, type: 'state', data: { state: x.state, reason: x.state === 'ready' ? 'parents done' : x.error } })), nowMs);
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
      for (const r of await this.db.query(`SELECT child_id FROM ${this.links} WHERE parent_id = ?`, [id])) {
        const j = await this.transition(r.child_id, ['queued'], to, nowMs, { error: reason, reason });
        if (j) { out.push(j); queue.push(j.id); }
      }
    }
    return out;
  }

  async parents(id: string): Promise<Job[]> {
    return (await this.db.query(`SELECT j.* FROM ${this.jobs} j JOIN ${this.links} l ON l.parent_id = j.id WHERE l.child_id = ?`, [id])).map(toJob);
  }

  /** The crew around a job: every job reachable through links, both ways (bounded). */
  async crewOf(id: string, max = 500): Promise<{ jobs: Job[]; links: Array<{ parent: string; child: string }> }> {
    const seen = new Set<string>([id]);
    const links = new Map<string, { parent: string; child: string }>();
    let frontier = [id];
    while (frontier.length && seen.size < max) {
      const marks = frontier.map(() => '?').join(', ');
      const rows = await this.db.query(`SELECT parent_id, child_id FROM ${this.links} WHERE parent_id IN (${marks}) OR child_id IN (${marks})`, [...frontier, ...frontier]);
      frontier = [];
      for (const r of rows) {
        links.set(`${r.parent_id}>${r.child_id}`, { parent: r.parent_id, child: r.child_id });
        for (const x of [r.parent_id, r.child_id]) if (!seen.has(x)) { seen.add(x); frontier.push(x); }
      }
    }
    return { jobs: await this.getMany([...seen]), links: [...links.values()] };
  }

  async addEvents(items: Array<{ jobId: string; type: string; data: unknown }>, nowMs: number): Promise<JobEvent[]> {
    return this.addEventsWith(this.db, items, nowMs);
  }

  private async addEventsWith(db: SqlRunner, items: Array<{ jobId: string; type: string; data: unknown }>, nowMs: number): Promise<JobEvent[]> {
    if (!items.length) return [];
    const rows = await db.query(`INSERT INTO ${this.events} (job_id, type, data, at_ms) VALUES ${items.map(() => '(?, ?, ?, ?)').join(', ')} RETURNING *`,
      items.flatMap(i => [i.jobId, i.type, JSON.stringify(i.data), nowMs]));
    const evs = rows.map(toEvent).sort((a, b) => a.seq - b.seq);
    this.onEvents?.(evs);
    return evs;
  }

  /** Set by the service: where new events go live (SSE, the bus). */
  onEvents?: (events: JobEvent[]) => void;

  async eventsOf(jobId: string, afterSeq: number, limit = 1000, types?: string[]): Promise<JobEvent[]> {
    const t = types?.length ? ` AND type IN (${types.map(() => '?').join(', ')})` : '';
    return (await this.db.query(`SELECT * FROM ${this.events} WHERE job_id = ? AND seq > ?${t} ORDER BY seq LIMIT ${limit}`, [jobId, afterSeq, ...(types ?? [])])).map(toEvent);
  }

  async addComment(jobId: string, author: string, text: string, nowMs: number) {
    const id = newId('cmt');
    await this.db.query(`INSERT INTO ${this.comments} (id, job_id, author, text, created_ms) VALUES (?, ?, ?, ?, ?)`, [id, jobId, author, text, nowMs]);
    await this.addEvents([{ jobId, type: 'comment', data: { id, author, text } }], nowMs);
    return { id, jobId, author, text, createdAt: iso(nowMs)! };
  }

  async commentsOf(jobId: string) {
    return (await this.db.query(`SELECT * FROM ${this.comments} WHERE job_id = ? ORDER BY created_ms, id`, [jobId]))
      .map(r => ({ id: r.id, jobId: r.job_id, author: r.author, text: r.text, createdAt: iso(r.created_ms)! }));
  }

  async remove(ids: string[]): Promise<void> {
    if (!ids.length) return;
    const marks = ids.map(() => '?').join(', ');
    await this.inTransaction(false, async tx => {
      await tx.query(`DELETE FROM ${this.events} WHERE job_id IN (${marks})`, ids);
      await tx.query(`DELETE FROM ${this.comments} WHERE job_id IN (${marks})`, ids);
      await tx.query(`DELETE FROM ${this.links} WHERE parent_id IN (${marks}) OR child_id IN (${marks})`, [...ids, ...ids]);
      await tx.query(`DELETE FROM ${this.jobs} WHERE id IN (${marks})`, ids);
    });
  }

  async finishedIds(): Promise<string[]> {
    return (await this.db.query(`SELECT id FROM ${this.jobs} WHERE state IN ('done', 'failed', 'cancelled', 'archived')`)).map(r => r.id);
  }

  async counts(): Promise<Record<string, number>> {
    const rows = await this.db.query(`SELECT state, COUNT(*) AS n FROM ${this.jobs} GROUP BY state`);
    return Object.fromEntries(rows.map(r => [r.state, Number(r.n)]));
  }

  async beat(kernelId: string, host: string, startedMs: number, nowMs: number, running: number): Promise<void> {
    const updated = await this.db.query(`UPDATE ${this.dispatchers} SET heartbeat_ms = ?, running = ? WHERE kernel_id = ? RETURNING kernel_id`, [nowMs, running, kernelId]);
    if (!updated.length) await this.db.query(`INSERT INTO ${this.dispatchers} (kernel_id, host, started_ms, heartbeat_ms, running) VALUES (?, ?, ?, ?, ?)`, [kernelId, host, startedMs, nowMs, running]);
  }

  async dispatcherRows(sinceMs: number) {
    await this.db.query(`DELETE FROM ${this.dispatchers} WHERE heartbeat_ms < ?`, [sinceMs - 3_600_000]);
    return (await this.db.query(`SELECT * FROM ${this.dispatchers} ORDER BY heartbeat_ms DESC`))
      .map(r => ({ kernelId: r.kernel_id, host: r.host, startedAt: iso(r.started_ms), heartbeatAt: iso(r.heartbeat_ms), heartbeatMs: Number(r.heartbeat_ms), running: Number(r.running) }));
  }
}

function toEvent(r: any): JobEvent {
  return { seq: Number(r.seq), jobId: r.job_id, type: r.type, data: json(r.data), at: iso(r.at_ms)! };
}
