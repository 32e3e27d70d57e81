import { hostname } from 'node:os';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import { WriteBehind, newId, withSpan, type AuthService, type Clock, type Logger, type Timers, type User } from 'plinth/sdk';
import type { JobExecutor } from './contract';
import type { Job, JobStore } from './job-store';
import { killOrphan } from './executors/command';

export interface DispatcherOptions {
  concurrency: number;
  leaseMs: number;
  heartbeatMs: number;
  pollMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxLogLines: number;
  maxArtifactBytes: number;
}

export interface DispatcherHooks {
  executor(kind: string): JobExecutor | undefined;
  /** Checks a result against the job's result_schema; answers an error text when it does not fit. */
  checkResult(job: Job, result: unknown): string | undefined;
  /** Called with every job whose state this dispatcher changed. */
  changed(job: Job): void;
}

/**
 * Runs inside the kernel: claims ready jobs with a lease (one guarded UPDATE, so kernels sharing
 * a database never run a job twice at once), renews the leases while they run, and reclaims jobs
 * whose lease expired because their kernel died — a retry with backoff, or `failed` once
 * max_retries is used up.
 */
export class Dispatcher {
  readonly kernelId = newId('kern');
  readonly host = hostname();
  private readonly running = new Map<string, AbortController>();
  private readonly startedMs: number;
  private ticking = false;
  private again = false;
  private wakeArmed = false;
  private stopped = false;
  private lastBeatMs = 0;

  constructor(
    private readonly store: JobStore,
    private readonly hooks: DispatcherHooks,
    private readonly auth: AuthService,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly log: Logger,
    readonly options: DispatcherOptions,
  ) {
    this.startedMs = clock.now();
  }

  start(): void {
    this.timers.setInterval(() => { void this.reclaim().then(() => this.wake()).catch(err => this.log.warn('reclaim failed', { error: String(err) })); }, this.options.pollMs);
    this.timers.setInterval(() => { void this.heartbeat().catch(err => this.log.warn('heartbeat failed', { error: String(err) })); }, this.options.heartbeatMs);
    void this.heartbeat().then(() => this.reclaim()).then(() => this.wake()).catch(err => this.log.warn('dispatcher start failed', { error: String(err) }));
  }

  /** Stops claiming, aborts what runs here and hands those jobs back as ready (a reload is not a failed attempt). */
  async stop(): Promise<void> {
    this.stopped = true;
    const ids = [...this.running.keys()];
    for (const ac of this.running.values()) ac.abort();
    // Node's timers and wall time here: this runs while the generation is disposed, when its ctx.timers no longer fire.
    const end = Date.now() + 2000;
    while (this.running.size && Date.now() < end) await new Promise(r => setTimeout(r, 20));
    for (const id of ids) {
      await this.store.db.query(`UPDATE ${this.store.jobs} SET state = 'ready', lease_owner = NULL, lease_until = NULL, pid = NULL, attempts = attempts - 1, run_after = ?
        WHERE id = ? AND lease_owner = ? AND state = 'running'`, [this.clock.now(), id, this.kernelId]).catch(() => undefined);
    }
  }

  get runningHere(): number { return this.running.size; }
  get lastHeartbeatMs(): number { return this.lastBeatMs; }

  /** Asks for a claim round soon; calls while one runs fold into one more round. */
  wake(): void {
    if (this.stopped || this.options.concurrency === 0) return;
    if (this.ticking) { this.again = true; return; }
    if (this.wakeArmed) return;
    this.wakeArmed = true;
    this.timers.setTimeout(() => { this.wakeArmed = false; void this.tick(); }, 0);
  }

  abort(jobId: string): void {
    this.running.get(jobId)?.abort();
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      do {
        this.again = false;
        const free = this.options.concurrency - this.running.size;
        if (free <= 0) break;
        const jobs = await this.store.leases.claim(this.kernelId, Math.min(free, 100), this.clock.now(), this.options.leaseMs);
        for (const job of jobs) {
          this.hooks.changed(job);
          void this.execute(job);
        }
        if (jobs.length === Math.min(free, 100)) this.again = true;
      } while (this.again && !this.stopped);
    } catch (err) {
      this.log.warn('claim failed', { error: String(err) });
    } finally {
      this.ticking = false;
    }
  }

  /** One attempt, in a span continuing the trace that asked for the job (an HTTP request, a tool an agent called). */
  private execute(job: Job): Promise<void> {
    const attributes = { 'plinth.job': job.id, 'plinth.job.kind': job.kind, 'plinth.job.attempt': job.attempts };
    return withSpan(`job ${job.kind}`, attributes, span => this.attempt(job, span), { traceparent: job.traceParent });
  }

  private async attempt(job: Job, span: Span): Promise<void> {
    const ac = new AbortController();
    this.running.set(job.id, ac);
    const logs = new LogWriter(this.store, job.id, this.clock, this.options.maxLogLines, this.timers);
    try {
      const executor = this.hooks.executor(job.kind);
      if (!executor) throw new Error(`no executor for kind "${job.kind}" is registered`);
      const user = await this.userOf(job.owner);
      const parentResults: Record<string, unknown> = {};
      if (job.parentCount) for (const p of await this.store.graph.parents(job.id)) parentResults[p.step ?? p.id] = p.result;
      const request = executorRequest(job, await this.previousFireSession(job));
      const result = await executor.run({
        job: { id: job.id, kind: job.kind, request, owner: job.owner, attempt: job.attempts, parentResults },
        user, signal: ac.signal, log: line => logs.push(line),
        saveArtifact: (name, bytes) => this.store.artifacts.save(job.id, job.attempts, name, bytes, this.clock.now(), this.options.maxArtifactBytes).then(() => undefined),
      });
      await logs.flush();
      if (ac.signal.aborted) return;
      const bad = this.hooks.checkResult(job, result);
      if (bad) throw new Error(bad);
      const now = this.clock.now();
      const done = await this.store.leases.finishAttempt(job, this.kernelId, { state: 'done', result: result ?? null, reason: 'completed' }, now);
      if (!done) { await this.store.leases.finishBlocked(job.id, this.kernelId, result, now); return; }
      this.hooks.changed(done);
      if (done.childCount) for (const child of await this.store.graph.promoteChildren(job.id, now)) this.hooks.changed(child);
    } catch (err: any) {
      await logs.flush().catch(() => undefined);
      if (ac.signal.aborted) return;
      span.setStatus({ code: SpanStatusCode.ERROR, message: err?.message ?? String(err) });
      await this.failAttempt(job, this.kernelId, err?.message ?? String(err)).catch(e => this.log.warn('could not record a failed attempt', { job: job.id, error: String(e) }));
    } finally {
      // Only our own entry: a later attempt of the same job may have taken the slot.
      if (this.running.get(job.id) === ac) this.running.delete(job.id);
      this.wake();
    }
  }

  /** A resumed job with no session of its own continues the one of the previous job from the same source (a schedule's last fire). */
  private async previousFireSession(job: Job): Promise<string | undefined> {
    if (job.continuity !== 'resume' || !job.source || job.request.sessionId || sessionOf(job.result)) return undefined;
    return this.store.lastSessionOf(job.source, job.id);
  }

  private readonly users = new Map<string, { user: User; atMs: number }>();

  /** Owners are looked up once every few seconds, not once per job: a role change still lands quickly. */
  private async userOf(id: string): Promise<User> {
    const hit = this.users.get(id);
    if (hit && this.clock.now() - hit.atMs < 5000) return hit.user;
    const user: User = (await this.auth.getUser(id)) ?? { id, email: '', role: 'user' };
    if (this.users.size > 1000) this.users.clear();
    this.users.set(id, { user, atMs: this.clock.now() });
    return user;
  }

  /** A failed attempt: retried after a backoff while retries are left, else `failed` with the reason. */
  private async failAttempt(job: Job, kernelId: string | null, error: string): Promise<void> {
    const now = this.clock.now();
    const retry = job.attempts <= job.maxRetries;
    const backoff = Math.min(this.options.backoffBaseMs * 2 ** Math.max(0, job.attempts - 1), this.options.backoffMaxMs);
    const next = await this.store.leases.finishAttempt(job, kernelId, retry
      ? { state: 'ready', error, runAfter: now + backoff, reason: `attempt ${job.attempts} failed; retry in ${backoff} ms` }
      : { state: 'failed', error, reason: `attempt ${job.attempts} failed and no retries are left (max_retries ${job.maxRetries})` }, now);
    if (!next) return;
    this.hooks.changed(next);
    if (next.state === 'failed') for (const c of await this.store.graph.cascade(job.id, 'failed', `parent ${job.id} failed`, now)) this.hooks.changed(c);
    if (retry) this.timers.setTimeout(() => this.wake(), backoff + 5);
  }

  /** Jobs whose kernel stopped renewing their lease: kill what is left of the attempt here, then retry or fail. */
  async reclaim(): Promise<void> {
    if (this.stopped) return;
    for (const j of await this.store.graph.settleQueued(this.clock.now())) this.hooks.changed(j);
    for (const job of await this.store.leases.expiredLeases(this.clock.now())) {
      if (this.running.has(job.id)) continue;
      if (killOrphan(job.id, job.pid)) this.log.info('killed the orphaned process of a reclaimed job', { job: job.id, pid: job.pid });
      await this.store.eventLog.add([{ jobId: job.id, type: 'attempt_lost', data: { attempt: job.attempts, kernel: job.leaseOwner } }], this.clock.now());
      await this.failAttempt(job, null, `attempt ${job.attempts} lost: the lease of kernel ${job.leaseOwner} expired (its process died or stalled)`);
    }
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    const now = this.clock.now();
    const ids = [...this.running.keys()];
    const held = await this.store.leases.renew(this.kernelId, ids, now + this.options.leaseMs);
    for (const id of ids) if (!held.has(id)) this.running.get(id)?.abort();
    await this.store.heartbeats.beat(this.kernelId, this.host, this.startedMs, now, this.running.size);
    this.lastBeatMs = now;
  }
}

/**
 * What an executor sees as the request: the job's own, plus what a person or the job's settings
 * added — redo feedback, continuity (with the session of the previous result, or of the previous
 * fire of the same schedule, to resume) and the process scope.
 */
export function executorRequest(job: Job, previousFireSession?: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...job.request };
  if (job.feedback) out.feedback = job.feedback;
  if (job.continuity) out.continuity = job.continuity;
  if (job.processScope) out.process_scope = job.processScope;
  const previous = sessionOf(job.result) ?? previousFireSession;
  if (job.continuity === 'resume' && !out.sessionId && previous) out.sessionId = previous;
  return out;
}

export function sessionOf(result: unknown): string | undefined {
  const id = (result as { sessionId?: unknown } | null)?.sessionId;
  return typeof id === 'string' ? id : undefined;
}

/** Collects output lines and writes them as job events in batches; keeps at most `max` lines per attempt. */
class LogWriter {
  private count = 0;
  private readonly lines: WriteBehind<string>;

  constructor(store: JobStore, jobId: string, clock: Clock, private readonly max: number, timers: Timers) {
    // 4 columns a row: 200 rows stay under SQLite's 999 variables. A lost log line is not worth a job's failure.
    this.lines = new WriteBehind(lines => store.eventLog.add(lines.map(line => ({ jobId, type: 'log', data: { line } })), clock.now()).then(() => undefined),
      () => undefined, { batch: 200, delayMs: 50, timers });
  }

  push(line: string): void {
    if (this.count++ >= this.max) {
      if (this.count === this.max + 1) this.lines.add(`[log truncated after ${this.max} lines]`);
      return;
    }
    this.lines.add(line.length > 8192 ? line.slice(0, 8192) + '…' : line);
  }

  flush(): Promise<void> {
    return this.lines.flush();
  }
}
