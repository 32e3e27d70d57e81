import { reply, type HttpRouter } from 'plinth/sdk';
import type { AnalysisStore } from './analysis-store';
import type { Recommendations } from './recommendations';
import type { TurnInsights } from './turn-insights';
import { AnalyzeBody, IdParams } from './schemas';

export function registerInsightRoutes(http: HttpRouter, d: { insights: TurnInsights; recommendations: Recommendations; analyses: AnalysisStore }): void {
  const { insights, recommendations, analyses } = d;
  http.get('/api/turns/:id/tips', { auth: 'user', params: IdParams, summary: 'Heuristic findings on a turn: code, severity, message, evidence' }, req =>
    insights.turnTips(req.params.id, req.user!));
  http.post('/api/turns/:id/analyze', { auth: 'user', params: IdParams, body: AnalyzeBody, summary: 'A model\'s analysis of a turn, stored with its cost' }, async req =>
    reply(201, await insights.analyzeTurn(req.params.id, req.user!, req.body.model)));
  http.post('/api/sessions/:id/analyze', { auth: 'user', params: IdParams, body: AnalyzeBody, summary: 'A model\'s analysis of a session, stored with its cost' }, async req =>
    reply(201, await insights.analyzeSession(req.params.id, req.user!, req.body.model)));
  http.get('/api/sessions/:id/insights', { auth: 'user', params: IdParams, summary: 'A session\'s turns, tokens, cost, tool use, errors, tips by kind, feedback and latest analysis' }, req =>
    insights.sessionInsights(req.params.id, req.user!));
  http.get('/api/recommendations', { auth: 'user', summary: 'Prioritized recommendations from tips, grades, breakers and stats (yours; admins: all)' }, req =>
    recommendations.list(req.user!));
  http.post('/api/recommendations/generate', { auth: 'user', body: AnalyzeBody, summary: 'The model writes recommendations from the aggregate; stored with its cost' }, async req =>
    reply(201, await recommendations.generate(req.user!, req.body.model)));
  http.get('/analyses/:id', { auth: 'user', params: IdParams, summary: 'A stored analysis (owner only)' }, req => analyses.getOwned(req.params.id, req.user));
}
