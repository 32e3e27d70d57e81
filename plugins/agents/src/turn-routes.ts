import { ownerFilter, reply, type HttpRouter } from 'plinth/sdk';
import type { AgentLoop } from './agent-loop';
import type { ProviderRouter } from './provider-router';
import type { SessionStore } from './session-store';
import { summarizeTurn, type TurnStore } from './turn-store';
import { CostsQuery, EfficiencyQuery, FeedbackBody, IdParams, Pagination, TimeseriesQuery } from './schemas';

export function registerTurnRoutes(http: HttpRouter, d: { turns: TurnStore; sessions: SessionStore; router: ProviderRouter; runtime: AgentLoop }): void {
  const { turns, sessions } = d;

  http.get('/api/sessions/:id/turns', { auth: 'user', params: IdParams, query: Pagination }, async req => {
    await sessions.getOwned(req.params.id, req.user);
    return turns.forSession(req.params.id, req.query.limit as number, req.query.cursor as string | undefined);
  });
  http.get('/api/sessions/:id/feedback', { auth: 'user', params: IdParams }, async req => {
    await sessions.getOwned(req.params.id, req.user);
    return turns.sessionFeedback(req.params.id);
  });
  http.get('/api/turns/:id', { auth: 'user', params: IdParams, summary: 'A turn: model, tokens, cost, latency, tool calls' }, async req => summarizeTurn(await turns.get(req.params.id, req.user)));
  http.get('/api/turns/:id/context', { auth: 'user', params: IdParams, summary: 'The messages sent to the model' }, async req => {
    const t = await turns.get(req.params.id, req.user);
    return { turnId: t.id, items: t.context };
  });
  http.get('/api/turns/:id/tools', { auth: 'user', params: IdParams, summary: 'Tool calls with inputs, outputs and durations' }, async req => {
    const t = await turns.get(req.params.id, req.user);
    return { turnId: t.id, items: t.tool_calls };
  });
  http.get('/api/turns/:id/model-selection', { auth: 'user', params: IdParams, summary: 'Which model ran and why' }, async req => {
    const t = await turns.get(req.params.id, req.user);
    return { turnId: t.id, model: t.model, ...t.model_selection };
  });
  http.post('/api/turns/:id/feedback', { auth: 'user', params: IdParams, body: FeedbackBody, summary: 'Grade a turn 1-5 (once; PUT replaces)' }, async req =>
    reply(201, await turns.putFeedback(req.params.id, req.user, req.body, 'create')));
  http.put('/api/turns/:id/feedback', { auth: 'user', params: IdParams, body: FeedbackBody }, req => turns.putFeedback(req.params.id, req.user, req.body, 'replace'));
  http.get('/api/turns/:id/feedback', { auth: 'user', params: IdParams }, req => turns.getFeedback(req.params.id, req.user));

  http.get('/api/stats/costs', { auth: 'user', query: CostsQuery, summary: 'Tokens and cost by model, agent or day (yours; admins: all)' }, req =>
    turns.costs(ownerFilter(req.user), req.query as any));
  http.get('/api/stats/timeseries', { auth: 'user', query: TimeseriesQuery }, req => turns.timeseries(ownerFilter(req.user), req.query as any));
  http.get('/api/stats/efficiency', { auth: 'user', query: EfficiencyQuery, summary: 'Per model: latency, time to first token, tokens/s, cost per turn, errors, grades' }, req =>
    turns.efficiency(ownerFilter(req.user), req.query as any));
  http.get('/api/stats/capacity', { auth: 'user', summary: 'Calls in flight per provider, breakers, busy sessions' }, () => ({
    ...d.router.capacity(), activeSessions: d.runtime.activeSessions().length,
  }));
}
