import { assertOwner, decodeCursor, errors, ownerFilter, pageOf, reply, sandboxFor, type HttpRouter, type Clock, type SandboxService, type User } from 'plinth/sdk';
import type { Dispatcher } from './dispatcher';
import type { Job, JobEvent, JobStore } from './job-store';
import { jobView, type JobService } from './job-service';
import type { TemplateLibrary } from './templates';
import type { JobsConfig } from './index';
import { registerArtifactRoutes } from './artifact-routes';
import { ClearQuery, CommentBody, CreateBody, CreateQuery, IdParams, ListQuery, RedoBody, StreamQuery } from './schemas';

const RECURRING_LIMIT = 200;
const TERMINAL = new Set(['done', 'failed', 'cancelled', 'archived']);
const positionOf = (row: Job) => ({ ms: Date.parse(row.createdAt), id: row.id });

/** A job the user may see: another user's answers 404. */
export function ownedJob(store: JobStore) {
  return async (id: string, user: User | undefined): Promise<Job> => {
    const job = await store.get(id);
    if (!job) throw errors.notFound(`job ${id}`);
    assertOwner(user, job.owner, `job ${id}`);
    return job;
  };
}

export interface JobRouteDeps {
  store: JobStore; service: JobService; dispatcher: Dispatcher; templates: TemplateLibrary;
  sandbox: SandboxService | undefined; config: JobsConfig; clock: Clock;
}

/** `/api/jobs`, the dispatcher's status and the templates. */
/** When a new job (or crew) may start: `scheduledAt` (query or body), else `delay_ms` from now; a time not ahead is refused. */
function holdUntil(scheduledAt: string | undefined, delayMs: number | undefined, now: number): number | undefined {
  if (scheduledAt !== undefined) {
    const at = Date.parse(scheduledAt);
    if (!Number.isFinite(at)) throw errors.validation(`scheduledAt "${scheduledAt}" is not an ISO date-time`, { field: 'scheduledAt' });
    if (at <= now) throw errors.validation(`scheduledAt ${scheduledAt} is in the past`, { field: 'scheduledAt' });
    return at;
  }
  return delayMs ? now + delayMs : undefined;
}

/** A job or a template's crew from a `CreateBody` (the route's and the `jobs.create` tool's one way). */
export async function createJobOrCrew(d: Pick<JobRouteDeps, 'service' | 'sandbox' | 'config' | 'clock'>, body: any, user: User, scheduledAt?: string) {
  const { scheduledAt: _at, ...b } = body;
  // Refused up front (not only when it runs) where a non-admin's command could not be sandboxed.
  if (b.kind === 'command' && user.role !== 'admin') await sandboxFor(d.sandbox, d.config.sandbox, false);
  const runAfter = holdUntil(scheduledAt ?? _at, b.delay_ms, d.clock.now());
  if (b.template) {
    const crew = await d.service.createFromTemplate({ template: b.template, inputs: b.inputs ?? {}, owner: user.id, user, runAfter });
    return { crewId: crew.crewId, jobs: crew.jobs.map(j => jobView(j)) };
  }
  return jobView((await d.service.create(b, user, runAfter ? { runAfter } : {})).job);
}

export function registerRoutes(http: HttpRouter, deps: JobRouteDeps): void {
  const { store, service, dispatcher, templates, config, clock } = deps;
  const owned = ownedJob(store);

  http.post('/', { auth: 'user', query: CreateQuery, body: CreateBody, summary: 'Create a job, or the crew of a template; held until ?scheduledAt= (or scheduledAt / delay_ms in the body)' }, async req =>
    reply(201, await createJobOrCrew(deps, req.body, req.user!, (req.query as any).scheduledAt)));
  http.get('/', { auth: 'user', query: ListQuery, summary: 'Jobs, newest first; recurring: the recurring jobs (cron schedules) beside them' }, async req => {
    const q = req.query as any;
    const owner = q.mine ? req.user!.id : ownerFilter(req.user);
    const rows = await store.list({ owner, state: q.status, kind: q.kind, limit: q.limit, cursor: decodeCursor(q.cursor) });
    // The peer daemon's list carries the recurring jobs (cron schedules) beside the jobs, on every page.
    return { ...pageOf(rows, q.limit, positionOf, j => jobView(j, q.view)), recurring: await service.recurring.list(owner, RECURRING_LIMIT) };
  });
  http.post('/clear', { auth: 'admin', query: ClearQuery, summary: 'Delete every finished job (done, failed, cancelled, archived), or one column (?status=)' }, async req =>
    ({ deleted: await service.clear(req.query.status as string | undefined) }));
  http.get('/:id', { auth: 'user', params: IdParams }, async req => service.detail(await owned(req.params.id, req.user)));
  http.get('/:id/status', { auth: 'user', params: IdParams }, async req => {
    const j = await owned(req.params.id, req.user);
    return { id: j.id, state: j.state, attempts: j.attempts, maxRetries: j.maxRetries, error: j.error, updatedAt: j.updatedAt };
  });
  http.get('/:id/graph', { auth: 'user', params: IdParams, summary: 'The crew around a job, in dependency order' }, async req => service.graph(await owned(req.params.id, req.user)));
  http.get('/:id/stream', { auth: 'user', params: IdParams, query: StreamQuery, summary: 'SSE of the job\'s events and log; resumable by Last-Event-ID' }, async req => {
    const job = await owned(req.params.id, req.user);
    // The SSE id is the event's seq, which only grows, so a client resumes exactly where it was.
    const withId = (e: JobEvent) => ({ ...e, id: e.seq });
    await req.sse().replayThenLive({
      replay: async after => (await store.eventLog.of(job.id, after ? Number(after) || 0 : 0, 100_000)).map(withId),
      live: push => service.liveEvents(job.id, e => push(withId(e))),
      frame: e => ({ id: e.seq, event: e.type, data: { ...e.data, at: e.at } }),
      isLast: e => e.type === 'state' && TERMINAL.has(e.data.state),
    });
  });
  http.post('/:id/cancel', { auth: 'user', params: IdParams }, async req => jobView(await service.cancel(await owned(req.params.id, req.user))));
  http.post('/:id/unblock', { auth: 'user', params: IdParams }, async req => jobView(await service.unblock(await owned(req.params.id, req.user))));
  http.post('/:id/redo', { auth: 'user', params: IdParams, body: RedoBody }, async req => jobView(await service.redo(await owned(req.params.id, req.user), (req.body as any)?.feedback)));
  http.post('/:id/archive', { auth: 'user', params: IdParams }, async req => jobView(await service.archive(await owned(req.params.id, req.user))));
  http.delete('/:id', { auth: 'user', params: IdParams }, async req => { await service.remove(await owned(req.params.id, req.user)); });
  http.post('/:id/comments', { auth: 'user', params: IdParams, body: CommentBody }, async req => {
    const job = await owned(req.params.id, req.user);
    return reply(201, await store.commentLog.add(job.id, req.user!.id, (req.body as any).text, clock.now()));
  });
  registerArtifactRoutes(http, store, owned);

  http.get('/api/dispatcher/status', { auth: 'user', summary: 'Dispatcher liveness (heartbeat), running and queued counts' }, async () => {
    const now = clock.now();
    const counts = await store.counts();
    const beat = dispatcher.lastHeartbeatMs;
    return {
      kernelId: dispatcher.kernelId, alive: beat > 0 && now - beat < config.heartbeatMs * 3, lastHeartbeat: beat ? new Date(beat).toISOString() : null,
      concurrency: config.concurrency, runningHere: dispatcher.runningHere, running: counts.running ?? 0,
      queued: (counts.queued ?? 0) + (counts.ready ?? 0), blocked: counts.blocked ?? 0, counts, kinds: service.kinds(),
      dispatchers: (await store.heartbeats.rows(now)).map(d => ({ ...d, alive: now - d.heartbeatMs < config.heartbeatMs * 3 })),
    };
  });
  http.get('/api/templates', { auth: 'user', summary: 'Job workflow templates (*.job_workflow.yaml under $PLINTH_DATA_DIR/templates)' },
    () => ({ items: templates.list(), nextCursor: null }));
}
