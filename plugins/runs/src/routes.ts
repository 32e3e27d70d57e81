import { assertOwner, errors, newId, ownerFilter, reply, type HttpRouter, type User, type WsRegistry } from 'plinth/sdk';
import { OUTPUT, type RunEventLog } from './event-log';
import { assertRepoAllowed, assertRepoPath } from './git';
import { tasksFrom } from './hooks';
import { branchOpArgs, checkedOutBranch, deleteBranch, mergeOrRebase, projectBranches, type RunReview } from './review';
import { registerRunnerRoutes, type RunnerRouteDeps } from './runner-routes';
import type { RunService } from './run-service';
import * as S from './schemas';
import { ACTIVE, type RunRow, type RunStore } from './run-store';
import type { TerminalSockets } from './terminal-ws';
import type { RunPins } from './run-pins';

/** A run as the API shows it (never its token hash or raw config). */
const view = (r: RunRow) => ({
  id: r.id, owner: r.owner, project_id: r.project_id, agent_id: r.agent_id, adapter: r.adapter, task: r.task, status: r.status,
  branch: r.branch, cwd: r.cwd, session_id: r.session_id, exit_code: r.exit_code, error: r.error,
  result: r.result ? JSON.parse(r.result) : null, created_at: r.created_at, updated_at: r.updated_at,
});
const page = <T extends { id: string }>(items: T[], limit: number) => ({ items, nextCursor: items.length === limit ? items[items.length - 1].id : null });
const bearer = (h: string | string[] | undefined) => (typeof h === 'string' && /^Bearer /i.test(h) ? h.slice(7).trim() : undefined);

export interface RunRouteDeps {
  store: RunStore; runs: RunService; runLog: RunEventLog; review: RunReview; terminals: TerminalSockets;
  /** Routes that need a run's process are served by the node holding it (run-pins.ts). */
  pins: RunPins;
  repoRoots: string[]; now(): string;
  /** The coding-agent runner's routes (runner-routes.ts). */
  runner: Pick<RunnerRouteDeps, 'notifications' | 'agents' | 'forge'>;
}

/** `/api/runs`, `/api/projects` (repos and branches) and the `/api/terminal` socket. */
export function registerRoutes(http: HttpRouter, ws: WsRegistry, { store, runs, runLog, review, terminals, pins, repoRoots, now, runner }: RunRouteDeps): void {
  const project = async (user: User | undefined, id: string) => {
    const p = await store.project(id);
    if (!p) throw errors.notFound(`project ${id}`);
    assertOwner(user, p.owner, `project ${id}`);
    return p;
  };
  const repoOf = async (projectId: string, repoId: string) => {
    const repo = (await store.repos(projectId)).find(r => r.id === repoId);
    if (!repo) throw errors.notFound(`repo ${repoId}`);
    return repo;
  };

  // ---------------------------------------------------------------- projects and repos
  http.post('/api/projects', { auth: 'user', body: S.CreateProject }, async req => {
    const p = { id: newId('proj'), owner: req.user!.id, name: req.body.name, created_at: now() };
    await store.createProject(p);
    return reply(201, { ...p, repos: [] });
  });
  http.get('/api/projects', { auth: 'user', query: S.ListQuery }, async req =>
    page(await store.listProjects(ownerFilter(req.user), req.query.limit, req.query.cursor), req.query.limit));
  http.get('/api/projects/:id', { auth: 'user', params: S.IdParams }, async req => {
    const p = await project(req.user, req.params.id);
    return { ...p, repos: await store.repos(p.id) };
  });
  http.delete('/api/projects/:id', { auth: 'user', params: S.IdParams }, async req => {
    const p = await project(req.user, req.params.id);
    const active = (await store.runsOfProject(p.id)).filter(r => ACTIVE.includes(r.status));
    if (active.length) throw errors.conflict(`project ${p.id} has runs in progress: cancel them first`, { runs: active.map(r => r.id) });
    await store.deleteProject(p.id);
  });
  http.post('/api/projects/:id/repos', { auth: 'user', params: S.IdParams, body: S.AddRepo }, async req => {
    const p = await project(req.user, req.params.id);
    // Permission first: a refused path must not tell whether it exists.
    assertRepoAllowed(req.body.repo_path, req.user!, repoRoots);
    assertRepoPath(req.body.repo_path);
    if ((await store.repos(p.id)).some(r => r.name === req.body.name)) throw errors.conflict(`project ${p.id} already has a repo named ${req.body.name}`);
    const repo = { id: newId('repo'), project_id: p.id, name: req.body.name, repo_path: req.body.repo_path, created_at: now() };
    await store.addRepo(repo);
    return reply(201, repo);
  });
  http.delete('/api/projects/:project_id/repos/:repo_id', { auth: 'user', params: S.RepoParams }, async req => {
    await project(req.user, req.params.project_id);
    if (!(await store.deleteRepo(req.params.project_id, req.params.repo_id))) throw errors.notFound(`repo ${req.params.repo_id}`);
  });

  // ---------------------------------------------------------------- branches
  http.get('/api/projects/:id/branches', { auth: 'user', params: S.IdParams }, async req => projectBranches(store, (await project(req.user, req.params.id)).id));
  http.delete('/api/projects/:id/branches', { auth: 'user', params: S.IdParams, query: S.BranchQuery }, async req => {
    const p = await project(req.user, req.params.id);
    await deleteBranch((await repoOf(p.id, req.query.repo_id)).repo_path, req.query.branch, await store.runsOfProject(p.id));
  });
  http.post('/api/projects/:id/branches/merge', { auth: 'user', params: S.IdParams, query: S.MergeQuery, body: S.MergeBody }, async req => {
    const p = await project(req.user, req.params.id);
    const a = branchOpArgs(req.query, req.body);
    const repo = await repoOf(p.id, a.repo_id);
    return mergeOrRebase(repo.repo_path, 'merge', a.into ?? await checkedOutBranch(repo.repo_path), a.branch, req.user!);
  });
  http.post('/api/projects/:id/branches/rebase', { auth: 'user', params: S.IdParams, query: S.RebaseQuery, body: S.RebaseBody }, async req => {
    const p = await project(req.user, req.params.id);
    const a = branchOpArgs(req.query, req.body);
    const repo = await repoOf(p.id, a.repo_id);
    return mergeOrRebase(repo.repo_path, 'rebase', a.branch, a.onto ?? await checkedOutBranch(repo.repo_path), req.user!);
  });

  // ---------------------------------------------------------------- runs
  http.post('/', { auth: 'user', body: S.CreateRun }, async req => reply(201, view(await runs.create(req.user!, req.body))));
  http.get('/', { auth: 'user', query: S.ListRunsQuery }, async req => {
    const rows = await store.listRuns({ owner: ownerFilter(req.user), projectId: req.query.project_id, status: req.query.status }, req.query.limit, req.query.cursor);
    return page(rows.map(view), req.query.limit);
  });
  http.get('/:id', { auth: 'user', params: S.IdParams }, async req => view(await runs.get(req.user, req.params.id)));
  http.delete('/:id', { auth: 'user', params: S.IdParams }, async req => { await runs.remove(req.user!, req.params.id); });
  http.post('/:id/cancel', { auth: 'user', params: S.IdParams }, pins.route(async req => view(await runs.cancel(req.user!, req.params.id))));
  http.post('/:id/pause', { auth: 'user', params: S.IdParams }, pins.route(async req => view(await runs.pause(req.user!, req.params.id))));
  http.post('/:id/continue', { auth: 'user', params: S.IdParams, body: S.ContinueRun }, async req =>
    view(await runs.continue(req.user!, req.params.id, req.body?.message)));
  registerRunnerRoutes(http, { runs, store, view, project, pins, ...runner });

  // ---------------------------------------------------------------- events, logs, hooks
  http.get('/:id/events', { auth: 'user', params: S.IdParams, query: S.EventsQuery }, async req => {
    const run = await runs.get(req.user, req.params.id);
    const items = await store.events(run.id, { after: req.query.after, limit: req.query.limit, types: req.query.type ? [req.query.type] : undefined });
    return { items, nextCursor: items.length === req.query.limit ? String(items[items.length - 1].seq) : null };
  });
  // The live part comes from the process's own log (not the bus): served where the run's PTY is.
  http.get('/:id/events/stream', { auth: 'user', params: S.IdParams, query: S.StreamQuery }, pins.route(async req => {
    const run = await runs.get(req.user, req.params.id);
    const sse = req.sse();
    const from = sse.lastEventId ?? req.query.last_event_id;
    await sse.replayThenLive({
      replay: async () => (await store.events(run.id, { after: from && /^\d+$/.test(from) ? Number(from) : 0 })).map(e => ({ ...e, id: e.seq })),
      live: push => runLog.subscribe(run.id, e => push({ ...e, id: e.seq })),
      frame: e => ({ id: e.seq, event: e.type, data: { seq: e.seq, type: e.type, time: e.time, data: e.data } }),
    });
  }));
  http.get('/:id/logs', { auth: 'user', params: S.IdParams, query: S.LogsQuery }, async req => {
    const run = await runs.get(req.user, req.params.id);
    const chunks = await store.events(run.id, { after: req.query.after, types: [OUTPUT] });
    return reply(200, chunks.map(c => c.data.data).join(''), {
      type: 'text/plain; charset=utf-8', headers: { 'x-last-seq': String(chunks.length ? chunks[chunks.length - 1].seq : req.query.after) },
    });
  });
  http.get('/:id/tasks', { auth: 'user', params: S.IdParams }, async req => {
    const run = await runs.get(req.user, req.params.id);
    return { items: tasksFrom(await store.events(run.id, { types: ['agent.tool_call', 'agent.task'] })), nextCursor: null };
  });
  http.post('/:id/hook', { auth: 'public', params: S.IdParams, body: S.HookBody, summary: 'Hook events from the run\'s CLI, with the per-run token' }, async req =>
    runs.hook(req.params.id, bearer(req.headers.authorization) ?? (req.headers['x-plinth-run-token'] as string | undefined), req.body));

  // ---------------------------------------------------------------- review and keep
  const withRun = (fn: (run: RunRow, req: any) => Promise<unknown>) => async (req: any) => fn(await runs.get(req.user, req.params.id), req);
  http.get('/:id/changes', { auth: 'user', params: S.IdParams, query: S.RepoQuery }, withRun((run, req) => review.changes(run, req.query.repo)));
  http.get('/:id/diff-stats', { auth: 'user', params: S.IdParams, query: S.RepoQuery }, withRun((run, req) => review.diffStats(run, req.query.repo)));
  http.post('/:id/commit', { auth: 'user', params: S.IdParams, body: S.CommitBody }, withRun((run, req) => review.commit(run, req.user, req.body.message, req.body.repo)));
  http.post('/:id/rename-branch', { auth: 'user', params: S.IdParams, body: S.RenameBody }, withRun((run, req) => review.renameBranch(run, req.body.name)));
  http.post('/:id/revert', { auth: 'user', params: S.IdParams, body: S.RepoBody }, withRun((run, req) => review.revert(run, req.body?.repo)));
  http.post('/:id/push', { auth: 'user', params: S.IdParams, body: S.RepoBody }, withRun((run, req) => review.push(run, req.body?.repo)));
  http.post('/:id/pull-request', { auth: 'user', params: S.IdParams, body: S.PullRequestBody }, withRun((run, req) => review.pullRequest(run, req.body?.repo, req.body ?? {})));
  http.post('/:id/accept', { auth: 'user', params: S.IdParams, body: S.RepoBody }, withRun((run, req) => review.accept(run, req.body?.repo)));

  // ---------------------------------------------------------------- terminal
  ws.handle('/api/terminal', { auth: 'user' }, (socket, info) => terminals.handle(socket, info));
}
