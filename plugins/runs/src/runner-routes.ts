import { reply, type HttpRouter, type User } from 'plinth/sdk';
import type { AgentRuntime } from 'plinth/contracts/agents';
import type { RunNotifications } from './notifications';
import type { RunService } from './runner';
import * as S from './schemas';
import type { ProjectRow, RunRow, RunStore } from './store';

export interface RunnerRouteDeps {
  runs: RunService;
  store: RunStore;
  view(r: RunRow): unknown;
  notifications: RunNotifications;
  project(user: User | undefined, id: string): Promise<ProjectRow>;
  agents(): AgentRuntime | undefined;
}

/**
 * The coding-agent runner's documented routes that Plinth's own do not cover: the completion
 * notification of a run (`notify` by body shape, typing into the CLI at `/input`), the
 * notification settings, and a project's agents.
 */
export function registerRunnerRoutes(http: HttpRouter, d: RunnerRouteDeps): void {
  const { runs, notifications } = d;
  http.post('/:id/input', { auth: 'user', params: S.IdParams, body: S.InputRun, summary: 'Type a message into the run\'s CLI' }, async req =>
    d.view(await runs.notify(req.user!, req.params.id, req.body.message)));
  http.post('/:id/notify', { auth: 'user', params: S.IdParams, body: S.NotifyRun, summary: '{ notify: true|false }: notify on completion; { message }: as /input' }, async req => {
    if (typeof req.body.message === 'string') return d.view(await runs.notify(req.user!, req.params.id, req.body.message));
    const run = await runs.get(req.user, req.params.id);
    await notifications.setNotify(run.id, req.body.notify);
    return { ...(d.view(run) as object), notify: req.body.notify };
  });
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
}
