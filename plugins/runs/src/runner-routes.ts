import { errors, reply, type HttpRouter, type User } from 'plinth/sdk';
import type { AgentRuntime } from 'plinth/contracts/agents';
import type { GitHubForge } from './forge';
import { pushRemote, runGit } from './git';
import type { RunNotifications } from './notifications';
import type { RunPins } from './run-pins';
import type { RunService } from './run-service';
import * as S from './schemas';
import type { ProjectRow, RunRow, RunStore } from './run-store';

export interface RunnerRouteDeps {
  runs: RunService;
  store: RunStore;
  view(r: RunRow): unknown;
  notifications: RunNotifications;
  project(user: User | undefined, id: string): Promise<ProjectRow>;
  agents(): AgentRuntime | undefined;
  forge: GitHubForge;
  pins: RunPins;
}

/**
 * The coding-agent runner's documented routes that Plinth's own do not cover: the completion
 * notification of a run (`notify` by body shape, typing into the CLI at `/input`), the
 * notification settings, and a project's agents.
 */
export function registerRunnerRoutes(http: HttpRouter, d: RunnerRouteDeps): void {
  const { runs, notifications } = d;
  http.post('/:id/input', { auth: 'user', params: S.IdParams, body: S.InputRun, summary: 'Type a message into the run\'s CLI' }, d.pins.route(async req =>
    d.view(await runs.notify(req.user!, req.params.id, req.body.message))));
  http.post('/:id/notify', { auth: 'user', params: S.IdParams, body: S.NotifyRun, summary: '{ notify: true|false }: notify on completion; { message }: as /input' }, d.pins.route(async req => {
    if (typeof req.body.message === 'string') return d.view(await runs.notify(req.user!, req.params.id, req.body.message));
    const run = await runs.get(req.user, req.params.id);
    await notifications.setNotify(run.id, req.body.notify);
    return { ...(d.view(run) as object), notify: req.body.notify };
  }));
  http.get('/api/settings/notifications', { auth: 'user', summary: 'Where run notifications go (Discord webhook, generic webhook) and for which events' }, req =>
    notifications.settings(req.user!.id));
  http.put('/api/settings/notifications', { auth: 'user', body: S.NotificationSettingsBody }, req =>
    notifications.putSettings(req.user!.id, req.body));
  http.get('/api/projects/:id/agents', { auth: 'user', params: S.IdParams, summary: 'Agents that belong to the project (provider_config.project_id)' }, async req => {
    const p = await d.project(req.user, req.params.id);
    const user = req.user!;
    const all = (await d.agents()?.listAgents()) ?? [];
    const items = all.filter(a => a.provider_config?.project_id === p.id && (a.owner === null || a.owner === user.id || user.role === 'admin'));
    return reply(200, { items, nextCursor: null });
  });
  http.get('/api/projects/:id/branches/pr-status', { auth: 'user', params: S.IdParams, summary: 'Pull request, checks and review status of each run branch (GitHub)' }, async req => {
    const p = await d.project(req.user, req.params.id);
    if (!d.forge.configured) throw errors.unavailable('no forge token: set the PLINTH_GITHUB_TOKEN secret to ask GitHub');
    const branches = [...new Set((await d.store.runsOfProject(p.id)).map(r => r.branch))];
    const items = [];
    for (const repo of await d.store.repos(p.id)) {
      const remote = await pushRemote(repo.repo_path).catch(() => undefined);
      if (!remote) continue;
      const url = (await runGit(repo.repo_path, ['remote', 'get-url', remote])).stdout.trim();
      for (const branch of branches) items.push({ repo: repo.name, repo_id: repo.id, branch, pull_request: await d.forge.status(url, branch) });
    }
    return { items, nextCursor: null };
  });
}
