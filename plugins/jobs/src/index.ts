import { join } from 'node:path';
import { assertOwner, decodeCursor, definePlugin, errors, ownerFilter, pageOf, reply, sandboxFor, sandboxRef, type SandboxMode, type User } from 'plinth/sdk';
import { agentRuntimeRef } from 'plinth/contracts/agents';
import { jobsRef } from './contract';
import { JobStore, migrations, type Job, type JobEvent } from './job-store';
import { JobService, jobView } from './job-service';
import { Dispatcher, type DispatcherOptions } from './dispatcher';
import { TemplateLibrary } from './templates';
import { commandExecutor } from './executors/command';
import { agentExecutor } from './executors/agent';
import { BlockInput, CommentBody, CreateBody, IdParams, ListQuery, RedoBody, StreamQuery } from './schemas';

interface Config extends DispatcherOptions {
  defaultMaxRetries: number;
  commandTimeoutMs: number;
  commandPath?: string;
  allowUserCommands: boolean;
  sandbox: SandboxMode;
  allowedHosts: string[];
}

const TERMINAL = new Set(['done', 'failed', 'cancelled', 'archived']);
const positionOf = (row: Job) => ({ ms: Date.parse(row.createdAt), id: row.id });

export default definePlugin({
  deps: { agents: agentRuntimeRef.asOptional(), sandbox: sandboxRef.asOptional() },
  provides: [jobsRef],
  async setup({ http, tools, storage, events, auth, clock, timers, validator, log, config: raw, kernel, dataDir, agents, sandbox, onDispose, provide }) {
    const config = raw as unknown as Config;
    const store = new JobStore(await storage.open({ migrations }));
    const templates = new TemplateLibrary(join(kernel.dataDir, 'templates'), validator);
    const service = new JobService(store, templates, events, clock, validator, config, id => auth.getUser(id));
    const dispatcher = new Dispatcher(store, service, auth, clock, timers, log, config);
    service.dispatcher = dispatcher;
    service.registerExecutor(commandExecutor({
      workDir: join(dataDir, 'work'), timeoutMs: config.commandTimeoutMs, path: config.commandPath,
      sandbox, sandboxMode: config.sandbox, allowedHosts: config.allowedHosts,
      onSpawn: (id, pid) => { void store.setPid(id, dispatcher.kernelId, pid).catch(() => undefined); },
    }));
    service.registerExecutor(agentExecutor(() => agents));
    dispatcher.start();
    onDispose(() => dispatcher.stop());

    const owned = async (id: string, user: User | undefined): Promise<Job> => {
      const job = await store.get(id);
      if (!job) throw errors.notFound(`job ${id}`);
      assertOwner(user, job.owner, `job ${id}`);
      return job;
    };

    http.post('/', { auth: 'user', body: CreateBody, summary: 'Create a job, or the crew of a template' }, async req => {
      const b = req.body as any;
      // Refused up front (not only when it runs) where a non-admin's command could not be sandboxed.
      if (b.kind === 'command' && req.user!.role !== 'admin') await sandboxFor(sandbox, config.sandbox, false);
      if (b.template) {
        const crew = await service.createFromTemplate({ template: b.template, inputs: b.inputs ?? {}, owner: req.user!.id, user: req.user });
        return reply(201, { crewId: crew.crewId, jobs: crew.jobs.map(j => jobView(j)) });
      }
      return reply(201, jobView((await service.create(b, req.user!)).job));
    });
    http.get('/', { auth: 'user', query: ListQuery, summary: 'Jobs, newest first' }, async req => {
      const q = req.query as any;
      const owner = q.mine ? req.user!.id : ownerFilter(req.user);
      const rows = await store.list({ owner, state: q.status, kind: q.kind, limit: q.limit, cursor: decodeCursor(q.cursor) });
      return pageOf(rows, q.limit, positionOf, j => jobView(j, q.view));
    });
    http.post('/clear', { auth: 'admin', summary: 'Delete every finished job (done, failed, cancelled, archived)' }, async () => ({ deleted: await service.clear() }));
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
        replay: async after => (await store.eventsOf(job.id, after ? Number(after) || 0 : 0, 100_000)).map(withId),
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
      return reply(201, await store.addComment(job.id, req.user!.id, (req.body as any).text, clock.now()));
    });

    http.get('/api/dispatcher/status', { auth: 'user', summary: 'Dispatcher liveness (heartbeat), running and queued counts' }, async () => {
      const now = clock.now();
      const counts = await store.counts();
      const beat = dispatcher.lastHeartbeatMs;
      return {
        kernelId: dispatcher.kernelId, alive: beat > 0 && now - beat < config.heartbeatMs * 3, lastHeartbeat: beat ? new Date(beat).toISOString() : null,
        concurrency: config.concurrency, runningHere: dispatcher.runningHere, running: counts.running ?? 0,
        queued: (counts.queued ?? 0) + (counts.ready ?? 0), blocked: counts.blocked ?? 0, counts, kinds: service.kinds(),
        dispatchers: (await store.dispatcherRows(now)).map(d => ({ ...d, alive: now - d.heartbeatMs < config.heartbeatMs * 3 })),
      };
    });
    http.get('/api/templates', { auth: 'user', summary: 'Job workflow templates (*.job_workflow.yaml under $PLINTH_DATA_DIR/templates)' },
      () => ({ items: templates.list(), nextCursor: null }));

    tools.register({
      name: 'block', risk: 'safe', inputSchema: BlockInput,
      description: 'Stop the current job and wait for a human: moves it to blocked with the reason. A person unblocks or redoes it.',
      async run(input: { reason: string; job_id?: string }, ctx) {
        const id = input.job_id ?? ctx.jobId ?? /^job:(.+)$/.exec(ctx.via ?? '')?.[1];
        if (!id) throw errors.badRequest('jobs.block needs a job: call it from a job\'s turn or pass job_id');
        const job = await owned(id, ctx.user);
        const next = await service.block(job, input.reason);
        return { id: next.id, state: next.state, reason: input.reason };
      },
    });

    provide(jobsRef, service);
  },
});
