import { errors, kernelErrors, newId, type Clock, type Disposer, type EventBus, type SchemaCheckResult, type User, type ValidatorService } from 'plinth/sdk';
import type { JobExecutor, JobsService, JobSummary, RecurringSource } from './contract';
import { RecurringJobs } from './recurring-jobs';
import { jobDefaults } from './job-defaults';
import { ACTIVE, type Job, type JobEvent, type JobState, type JobStore, type NewJob } from './job-store';
import type { Dispatcher } from './dispatcher';
import { interpolate, order, type TemplateLibrary } from './templates';

type Check = (data: unknown) => SchemaCheckResult;

export interface CreateJobInput {
  kind: string; request?: Record<string, unknown>; title?: string; max_retries?: number; result_schema?: Record<string, unknown>;
  parents?: string[]; continuity?: 'fresh' | 'resume'; process_scope?: string; delay_ms?: number;
}

/** What a reader sees of a job: everything, or the summary without the heavy fields. */
export function jobView(j: Job, view: 'full' | 'summary' = 'full') {
  const { leaseOwner, leaseUntil, pid, childCount, parentCount, runAfter, traceParent, ...rest } = j;
  const base = { ...rest, runAfter: new Date(runAfter).toISOString(), lease: leaseOwner ? { owner: leaseOwner, until: new Date(leaseUntil!).toISOString() } : null };
  if (view === 'full') return base;
  const { request, result, resultSchema, feedback, ...summary } = base;
  // The peer daemon's summary keeps a short form of the result.
  return { ...summary, resultSummary: summarize(result) };
}

function summarize(result: unknown): string | null {
  if (result === null || result === undefined) return null;
  const text = typeof result === 'string' ? result : JSON.stringify(result);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

const JOB_EVENT_TOPIC = 'jobs.event';

/** Creating jobs and crews, the human-driven transitions, and the live feed of job events. */
export class JobService implements JobsService {
  private readonly executors = new Map<string, { executor: JobExecutor; validate?: Check }>();
  /** Result schemas are a caller's: compiled transient (see ValidatorService), the last 200 kept here. */
  private readonly schemas = new Map<string, Check>();
  dispatcher!: Dispatcher;
  readonly recurring = new RecurringJobs();

  constructor(
    private readonly store: JobStore,
    private readonly templates: TemplateLibrary,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly validator: ValidatorService,
    private readonly options: { defaultMaxRetries: number; allowUserCommands: boolean },
    private readonly userOf: (id: string) => Promise<User | undefined>,
  ) {
    // Job events travel on the bus, so a job's stream opened on any kernel shows it live wherever it runs.
    store.eventLog.onEvents = events => { for (const e of events) void this.bus.publish(JOB_EVENT_TOPIC, e, { audience: 'internal' }).catch(() => undefined); };
  }

  registerExecutor(executor: JobExecutor): Disposer {
    if (!/^[a-z][a-z0-9_-]{0,63}$/.test(executor.kind)) throw errors.badRequest(`executor kind "${executor.kind}" must be lower-case letters, digits, - or _`);
    if (this.executors.has(executor.kind)) throw errors.conflict(`an executor for kind "${executor.kind}" is already registered`);
    const entry = { executor, validate: executor.requestSchema ? this.validator.compile(executor.requestSchema, { where: 'body/request' }) : undefined };
    this.executors.set(executor.kind, entry);
    this.dispatcher?.wake();
    return () => { if (this.executors.get(executor.kind) === entry) this.executors.delete(executor.kind); };
  }

  registerRecurring(source: RecurringSource): Disposer {
    return this.recurring.register(source);
  }

  executor(kind: string): JobExecutor | undefined {
    return this.executors.get(kind)?.executor;
  }

  kinds(): string[] {
    return [...this.executors.keys()].sort();
  }

  checkResult(job: Job, result: unknown): string | undefined {
    if (!job.resultSchema) return undefined;
    const key = JSON.stringify(job.resultSchema);
    let check = this.schemas.get(key);
    if (!check) {
      check = this.validator.compile(job.resultSchema, { where: 'result', transient: true });
      if (this.schemas.size >= 200) this.schemas.delete(this.schemas.keys().next().value!);
      this.schemas.set(key, check);
    }
    const checked = check(result);
    return checked.ok ? undefined : `the result does not fit result_schema: ${checked.message}`;
  }

  /** Every state change goes to the bus (for /ws, channels) under the job's owner. */
  changed(job: Job): void {
    void this.bus.publish('job.updated', { id: job.id, kind: job.kind, title: job.title, state: job.state, attempts: job.attempts, error: job.error }, { owner: job.owner }).catch(() => undefined);
  }

  private validateNew(input: CreateJobInput, user: User | undefined): void {
    const entry = this.executors.get(input.kind);
    if (!entry) throw errors.validation(`no executor for kind "${input.kind}"; known kinds: ${this.kinds().join(', ') || 'none'}`, [{ field: 'body/kind', message: 'unknown kind' }]);
    if (input.kind === 'command' && user && user.role !== 'admin' && !this.options.allowUserCommands) {
      throw errors.forbidden('command jobs run as the kernel\'s OS user: only admins may create them (config allowUserCommands)');
    }
    const checked = entry.validate?.(input.request ?? {});
    if (checked && !checked.ok) throw errors.validation(`request does not fit kind ${input.kind}: ${checked.message}`, checked.details);
    if (input.result_schema) {
      try { this.validator.compile(input.result_schema, { transient: true }); } catch (err: any) { throw kernelErrors.error('PLINTH_ERR_VALIDATION', `result_schema is not a valid JSON Schema: ${err.message}`, { details: [{ field: 'body/result_schema', message: err.message }], cause: err }); }
    }
  }

  private async checkParents(parents: string[], user: User | undefined, owner: string): Promise<void> {
    if (!parents.length) return;
    const found = await this.store.getMany(parents);
    for (const id of parents) {
      const p = found.find(j => j.id === id);
      const visible = p && (p.owner === owner || user?.role === 'admin');
      if (!visible) throw errors.validation(`parent job ${id} not found`, [{ field: 'body/parents', message: `${id} not found` }]);
    }
  }

  async create(input: CreateJobInput, user: User, extra: Partial<NewJob> = {}): Promise<{ job: Job; created: boolean }> {
    this.validateNew(input, user);
    const parents = input.parents ?? [];
    await this.checkParents(parents, user, user.id);
    const now = this.clock.now();
    const [out] = await this.store.insert([{
      owner: extra.owner ?? user.id, kind: input.kind, title: input.title ?? null, request: input.request ?? {},
      maxRetries: input.max_retries ?? this.options.defaultMaxRetries, resultSchema: input.result_schema ?? null,
      ...jobDefaults({ request: input.request, continuity: input.continuity, processScope: input.process_scope }), parents,
      runAfter: input.delay_ms ? now + input.delay_ms : now, ...extra,
    }], now);
    if (out.created) { this.changed(out.job); this.dispatcher.wake(); }
    return out;
  }

  async enqueue(input: Parameters<JobsService['enqueue']>[0]): Promise<{ id: string; created: boolean }> {
    // Jobs enqueued by other plugins (a schedule) act for their owner: the same role rules apply.
    this.validateNew({ kind: input.kind, request: input.request }, await this.ownerFor(input.kind, input.owner));
    const now = this.clock.now();
    const [out] = await this.store.insert([{
      owner: input.owner, kind: input.kind, title: input.title ?? null, request: input.request, maxRetries: input.maxRetries ?? this.options.defaultMaxRetries,
      parents: input.parents, idempotencyKey: input.idempotencyKey ?? null, source: input.source ?? null, ...jobDefaults(input, input.recurring),
    }], now);
    if (out.created) { this.changed(out.job); this.dispatcher.wake(); }
    return { id: out.job.id, created: out.created };
  }

  /** The whole crew of a template, one job per step, linked by `depends_on`, in one transaction. */
  async createFromTemplate(input: { template: string; inputs: Record<string, unknown>; owner: string; user?: User; idempotencyKey?: string; source?: string; runAfter?: number }) {
    const t = this.templates.get(input.template);
    this.templates.validateInputs(t, input.inputs);
    const crewId = newId('crew');
    const ids = new Map(t.steps.map(s => [s.id, newId('job')]));
    const steps = order(t.steps);
    const jobs = steps.map(s => {
      const request = interpolate(s.request ?? {}, input.inputs) as Record<string, unknown>;
      const kindInput = { kind: s.kind, request, result_schema: s.result_schema };
      this.validateNew(kindInput, input.user);
      return {
        id: ids.get(s.id)!, owner: input.owner, kind: s.kind, title: s.title ? String(interpolate(s.title, input.inputs)) : `${t.name}: ${s.id}`, request,
        maxRetries: s.max_retries ?? this.options.defaultMaxRetries, resultSchema: s.result_schema ?? null, crewId, step: s.id, template: t.name,
        source: input.source ?? null, idempotencyKey: input.idempotencyKey ? `${input.idempotencyKey}:${s.id}` : null,
        parents: s.depends_on.map(d => ids.get(d)!), ...jobDefaults({ request }),
        // Held crews: the first steps wait until then; the others wait for them anyway.
        ...(input.runAfter && !s.depends_on.length ? { runAfter: input.runAfter } : {}),
      };
    });
    const out = await this.store.insert(jobs, this.clock.now());
    for (const o of out) if (o.created) this.changed(o.job);
    this.dispatcher.wake();
    return { crewId: out[0].job.crewId ?? crewId, ids: out.map(o => o.job.id), created: out.some(o => o.created), jobs: out.map(o => o.job) };
  }

  async enqueueMany(inputs: Array<Omit<Parameters<JobsService['enqueue']>[0], 'parents'>>): Promise<Array<{ id: string; created: boolean }>> {
    for (const input of inputs) this.validateNew({ kind: input.kind, request: input.request }, await this.ownerFor(input.kind, input.owner));
    const out = await this.store.insertMany(inputs.map(input => ({
      owner: input.owner, kind: input.kind, title: input.title ?? null, request: input.request, maxRetries: input.maxRetries ?? this.options.defaultMaxRetries,
      idempotencyKey: input.idempotencyKey ?? null, source: input.source ?? null, ...jobDefaults(input, input.recurring),
    })), this.clock.now());
    for (const o of out) if (o.created) this.changed(o.job);
    this.dispatcher.wake();
    return out.map(o => ({ id: o.job.id, created: o.created }));
  }

  private async ownerFor(kind: string, owner: string): Promise<User | undefined> {
    if (kind !== 'command' || this.options.allowUserCommands) return undefined;
    return (await this.userOf(owner)) ?? { id: owner, email: '', role: 'user' };
  }

  async enqueueTemplate(input: { template: string; inputs: Record<string, unknown>; owner: string; idempotencyKey?: string; source?: string }) {
    const user = (await this.userOf(input.owner)) ?? { id: input.owner, email: '', role: 'user' as const };
    const { crewId, ids, created } = await this.createFromTemplate({ ...input, user });
    return { crewId, ids, created };
  }

  async getJob(id: string): Promise<JobSummary | undefined> {
    const j = await this.store.get(id);
    return j && { id: j.id, kind: j.kind, title: j.title, owner: j.owner, state: j.state, attempts: j.attempts, createdAt: j.createdAt, updatedAt: j.updatedAt };
  }

  /** A guarded transition, or a 409 that says which state the job is in. */
  private async move(job: Job, from: JobState[], to: JobState, extra: Parameters<JobStore['transition']>[4] = {}): Promise<Job> {
    const next = await this.store.transition(job.id, from, to, this.clock.now(), extra);
    if (!next) {
      const now = await this.store.get(job.id);
      throw errors.conflict(`job ${job.id} is ${now?.state ?? 'gone'}; ${to} needs it to be ${from.join(' or ')}`, { state: now?.state });
    }
    this.changed(next);
    return next;
  }

  async cancel(job: Job): Promise<Job> {
    const next = await this.move(job, ACTIVE, 'cancelled', { reason: 'cancelled' });
    this.dispatcher.abort(job.id);
    for (const c of await this.store.graph.cascade(job.id, 'cancelled', `parent ${job.id} was cancelled`, this.clock.now())) this.changed(c);
    return next;
  }

  async block(job: Job, reason: string): Promise<Job> {
    return this.move(job, ['running', 'ready', 'queued'], 'blocked', { error: reason, reason });
  }

  /** A blocked job's executor may still be finishing its attempt: re-queuing now would run it twice. */
  private assertNotRunning(job: Job): void {
    if (job.leaseOwner && (job.leaseUntil ?? 0) > this.clock.now()) {
      throw errors.conflict(`job ${job.id} is still finishing its current attempt; try again once it has stopped`);
    }
  }

  async unblock(job: Job): Promise<Job> {
    this.assertNotRunning(job);
    const next = await this.move(job, ['blocked'], 'ready', { error: null, resetAttempts: true, reason: 'unblocked' });
    this.dispatcher.wake();
    return next;
  }

  async redo(job: Job, feedback: string | undefined): Promise<Job> {
    this.assertNotRunning(job);
    const next = await this.move(job, ['done', 'blocked', 'failed'], 'ready', { error: null, feedback: feedback ?? null, resetAttempts: true, reason: feedback ? 'redo with feedback' : 'redo' });
    this.dispatcher.wake();
    return next;
  }

  async archive(job: Job): Promise<Job> {
    return this.move(job, ['done', 'failed', 'cancelled'], 'archived', { reason: 'archived' });
  }

  async remove(job: Job): Promise<void> {
    if (job.state === 'running') throw errors.conflict(`job ${job.id} is running; cancel it first`, { state: job.state });
    await this.store.remove([job.id]);
  }

  /** Deletes the finished jobs, or one finished column (`status`). */
  async clear(status?: string): Promise<number> {
    const ids = await this.store.finishedIds(status ? [status] : undefined);
    for (let i = 0; i < ids.length; i += 500) await this.store.remove(ids.slice(i, i + 500));
    return ids.length;
  }

  /** Everything about one job: attempts (from its events), recent events, comments and its parents' results. */
  async detail(job: Job) {
    const events = await this.store.eventLog.of(job.id, 0, 5000, ['state', 'attempt_lost', 'comment']);
    const attempts: Array<{ n: number; kernel: string | null; startedAt: string; endedAt: string | null; outcome: string | null; error: string | null }> = [];
    for (const e of events) {
      if (e.type === 'state' && e.data.state === 'running') { attempts.push({ n: e.data.attempt, kernel: e.data.kernel ?? null, startedAt: e.at, endedAt: null, outcome: null, error: null }); continue; }
      const open = attempts[attempts.length - 1];
      if (!open || open.endedAt) continue;
      if (e.type === 'attempt_lost') Object.assign(open, { endedAt: e.at, outcome: 'lost' });
      else if (e.type === 'state' && e.data.state !== 'blocked') Object.assign(open, { endedAt: e.at, outcome: e.data.state === 'done' ? 'done' : e.data.state === 'cancelled' ? 'cancelled' : 'failed', error: e.data.error ?? null });
    }
    // The state event is written just after the row changes: a reader in between sees the row's word.
    const last = attempts[attempts.length - 1];
    if (last && !last.endedAt && job.state !== 'running' && job.state !== 'blocked') {
      const outcome = job.state === 'done' ? 'done' : job.state === 'cancelled' || job.state === 'archived' ? 'cancelled' : 'failed';
      Object.assign(last, { endedAt: job.finishedAt ?? job.updatedAt, outcome, error: outcome === 'failed' ? job.error : null });
    }
    const parents = await this.store.graph.parents(job.id);
    return {
      job: jobView(job), attempts, events: events.slice(-200), comments: await this.store.commentLog.of(job.id),
      parentResults: Object.fromEntries(parents.map(p => [p.step ?? p.id, p.result])),
      parents: parents.map(p => ({ id: p.id, step: p.step, state: p.state })), artifact: (await this.store.artifacts.latest(job.id)) ?? null,
    };
  }

  async graph(job: Job) {
    const { jobs, links } = await this.store.graph.crewOf(job.id);
    const steps = jobs.map(j => ({ id: j.id, kind: j.kind, request: {}, depends_on: links.filter(l => l.child === j.id).map(l => l.parent) }));
    const byId = new Map(jobs.map(j => [j.id, j]));
    return {
      crewId: job.crewId,
      jobs: order(steps).map(s => ({ ...jobView(byId.get(s.id)!, 'summary'), dependsOn: s.depends_on })),
      links,
    };
  }

  liveEvents(jobId: string, push: (e: JobEvent) => void): Disposer {
    return this.bus.subscribe<JobEvent>(JOB_EVENT_TOPIC, e => { if (e.payload.jobId === jobId) push(e.payload); });
  }
}
