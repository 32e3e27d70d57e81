import { activeTraceparent, iso, keysetPage, newId, type PluginDatabase, type SqlRunner } from 'plinth/sdk';
import { JobEventLog } from './job-events';
import { JobLeases } from './job-leases';
import { JobGraph } from './job-graph';
import { JobComments } from './job-comments';
import { DispatcherHeartbeats } from './dispatcher-heartbeats';
import { JobArtifacts } from './job-artifacts';

/** The board's finished columns: what POST /api/jobs/clear may delete. */
export const FINISHED = ['done', 'failed', 'cancelled', 'archived'] as const;
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
  /** The trace that asked for it (W3C traceparent), continued by its span; never in answers. */
  traceParent: string | null;
}

export interface JobEvent { seq: number; jobId: string; type: string; data: any; at: string }

export const json = (text: unknown) => (text === null || text === undefined ? null : JSON.parse(String(text)));
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export function toJob(r: any): Job {
  return {
    id: r.id, owner: r.owner, kind: r.kind, title: r.title ?? null, request: json(r.request) ?? {}, state: r.state,
    attempts: Number(r.attempts), maxRetries: Number(r.max_retries), result: json(r.result), resultSchema: json(r.result_schema),
    error: r.error ?? null, feedback: r.feedback ?? null, continuity: r.continuity ?? null, processScope: r.process_scope ?? null,
    crewId: r.crew_id ?? null, step: r.step ?? null, template: r.template ?? null, source: r.source ?? null,
    idempotencyKey: r.idempotency_key ?? null, leaseOwner: r.lease_owner ?? null, leaseUntil: num(r.lease_until), runAfter: Number(r.run_after),
    pid: num(r.pid), childCount: Number(r.child_count ?? 0), parentCount: Number(r.parent_count ?? 0), createdAt: iso(r.created_ms)!, updatedAt: iso(r.updated_ms)!,
    readyAt: iso(r.ready_ms), startedAt: iso(r.started_ms), finishedAt: iso(r.finished_ms), traceParent: r.trace_parent ?? null,
  };
}

export interface NewJob {
  owner: string; kind: string; title?: string | null; request: Record<string, unknown>; maxRetries: number;
  resultSchema?: Record<string, unknown> | null; continuity?: string | null; processScope?: string | null; crewId?: string | null;
  step?: string | null; template?: string | null; source?: string | null; idempotencyKey?: string | null; parents?: string[]; runAfter?: number;
}

/** The jobs table; every transition is one guarded UPDATE, so two kernels can never both win. The
 * leases, the graph, the event log, comments, heartbeats and artifacts are the modules beside it. */
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

  readonly eventLog = new JobEventLog(this);
  readonly leases = new JobLeases(this);
  readonly graph = new JobGraph(this);
  readonly commentLog = new JobComments(this);
  readonly heartbeats = new DispatcherHeartbeats(this);
  readonly artifacts = new JobArtifacts(this);

  /**
   * Inserts a job (and its links) in one transaction. With an idempotency key already used, the
   * INSERT does nothing and the first job is answered (`created: false`).
   */
  async insert(jobs: Array<NewJob & { id?: string }>, nowMs: number): Promise<Array<{ job: Job; created: boolean }>> {
    const simple = jobs.length === 1 && !jobs[0].parents?.length;
    const traceParent = activeTraceparent();
    return this.inTransaction(simple, async tx => {
      const out: Array<{ job: Job; created: boolean }> = [];
      for (const j of jobs) {
        const id = j.id ?? newId('job');
        const parents = j.parents ?? [];
        const state: JobState = parents.length ? 'queued' : 'ready';
        const rows = await tx.query(
          `INSERT INTO ${this.jobs} (id, owner, kind, title, request, state, attempts, max_retries, result_schema, continuity, process_scope,
             crew_id, step, template, source, idempotency_key, run_after, created_ms, updated_ms, ready_ms, parent_count, trace_parent)
           VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
          [id, j.owner, j.kind, j.title ?? null, JSON.stringify(j.request), state, j.maxRetries, j.resultSchema ? JSON.stringify(j.resultSchema) : null,
            j.continuity ?? null, j.processScope ?? null, j.crewId ?? null, j.step ?? null, j.template ?? null, j.source ?? null,
            j.idempotencyKey ?? null, j.runAfter ?? nowMs, nowMs, nowMs, state === 'ready' ? nowMs : null, parents.length, traceParent]);
        if (!rows.length) {
          const [existing] = await tx.query(`SELECT * FROM ${this.jobs} WHERE idempotency_key = ?`, [j.idempotencyKey]);
          out.push({ job: toJob(existing), created: false });
          continue;
        }
        for (const p of parents) {
          await tx.query(`INSERT INTO ${this.links} (parent_id, child_id) VALUES (?, ?)`, [p, id]);
          await tx.query(`UPDATE ${this.jobs} SET child_count = child_count + 1 WHERE id = ?`, [p]);
        }
        await this.eventLog.addWith(tx, [{ jobId: id, type: 'state', data: { state } }], nowMs);
        out.push({ job: toJob(rows[0]), created: true });
      }
      // A parent that is already done releases its new child at once; one that already failed fails it.
      for (const o of out) {
        if (!o.created || o.job.state !== 'queued') continue;
        o.job = (await this.graph.promoteWith(tx, o.job.id, nowMs)) ?? o.job;
        const [dead] = await tx.query(`SELECT p.id, p.state FROM ${this.links} l JOIN ${this.jobs} p ON p.id = l.parent_id WHERE l.child_id = ? AND p.state IN ('failed', 'cancelled')`, [o.job.id]);
        if (dead) {
          const reason = `parent ${dead.id} ${dead.state === 'failed' ? 'failed' : 'was cancelled'}`;
          const [row] = await tx.query(`UPDATE ${this.jobs} SET state = ?, error = ?, finished_ms = ?, updated_ms = ? WHERE id = ? RETURNING *`, [dead.state, reason, nowMs, nowMs, o.job.id]);
          await this.eventLog.addWith(tx, [{ jobId: o.job.id, type: 'state', data: { state: dead.state, reason } }], nowMs);
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
    const traceParent = activeTraceparent();
    const out: Array<{ job: Job; created: boolean }> = [];
    for (let i = 0; i < jobs.length; i += 400) {
      const chunk = jobs.slice(i, i + 400).map(j => ({ ...j, id: newId('job') }));
      const rows = await this.db.query(
        `INSERT INTO ${this.jobs} (id, owner, kind, title, request, state, attempts, max_retries, source, idempotency_key, continuity, process_scope, run_after, created_ms, updated_ms, ready_ms, trace_parent)
         VALUES ${chunk.map(() => `(?, ?, ?, ?, ?, 'ready', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).join(', ')} ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
        chunk.flatMap(j => [j.id, j.owner, j.kind, j.title ?? null, JSON.stringify(j.request), j.maxRetries, j.source ?? null, j.idempotencyKey ?? null, j.continuity ?? null, j.processScope ?? null, nowMs, nowMs, nowMs, nowMs, traceParent]));
      const created = new Map(rows.map(r => [r.id, toJob(r)]));
      const missing = chunk.filter(j => !created.has(j.id)).map(j => j.idempotencyKey!);
      const existing = new Map<string, Job>();
      if (missing.length) {
        for (const r of await this.db.query(`SELECT * FROM ${this.jobs} WHERE idempotency_key IN (${missing.map(() => '?').join(', ')})`, missing)) existing.set(r.idempotency_key, toJob(r));
      }
      await this.eventLog.add([...created.values()].map(j => ({ jobId: j.id, type: 'state', data: { state: 'ready' } })), nowMs);
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
    await this.eventLog.add([{ jobId: id, type: 'state', data: { state: to, ...(extra.reason ? { reason: extra.reason } : {}) } }], nowMs);
    return toJob(rows[0]);
  }

  async remove(ids: string[]): Promise<void> {
    if (!ids.length) return;
    const marks = ids.map(() => '?').join(', ');
    await this.inTransaction(false, async tx => {
      await tx.query(`DELETE FROM ${this.events} WHERE job_id IN (${marks})`, ids);
      await tx.query(`DELETE FROM ${this.comments} WHERE job_id IN (${marks})`, ids);
      await tx.query(`DELETE FROM ${this.artifacts.table} WHERE job_id IN (${marks})`, ids);
      await tx.query(`DELETE FROM ${this.links} WHERE parent_id IN (${marks}) OR child_id IN (${marks})`, [...ids, ...ids]);
      await tx.query(`DELETE FROM ${this.jobs} WHERE id IN (${marks})`, ids);
    });
  }

  async finishedIds(states: readonly string[] = FINISHED): Promise<string[]> {
    return (await this.db.query(`SELECT id FROM ${this.jobs} WHERE state IN (${states.map(() => '?').join(', ')})`, [...states])).map(r => r.id);
  }

  /** The session of the newest finished job from `source` other than `exceptId` (how a recurring job resumes). */
  async lastSessionOf(source: string, exceptId: string): Promise<string | undefined> {
    const [row] = await this.db.query(`SELECT result FROM ${this.jobs} WHERE source = ? AND id <> ? AND state = 'done' ORDER BY finished_ms DESC LIMIT 1`, [source, exceptId]);
    const id = json(row?.result)?.sessionId;
    return typeof id === 'string' ? id : undefined;
  }

  async counts(): Promise<Record<string, number>> {
    const rows = await this.db.query(`SELECT state, COUNT(*) AS n FROM ${this.jobs} GROUP BY state`);
    return Object.fromEntries(rows.map(r => [r.state, Number(r.n)]));
  }
}
