import { reply, type HttpRouter, type RouteRequest } from 'plinth/sdk';
import type { AdminClient } from './admin-routes-client';
import type { SetupInterview } from './setup-interview';
import { FinishBody, StartBody, TurnBody } from './schemas';

export function registerInterviewRoutes(http: HttpRouter, interview: SetupInterview, admin: (req: RouteRequest) => AdminClient): void {
  http.get('/status', { auth: 'admin', summary: 'Whether a setup interview was applied yet' }, () => interview.status());
  http.post('/start', { auth: 'admin', body: StartBody, summary: 'Start the setup interview: the first question' }, async req => reply(201, await interview.start(req.user!)));
  http.post('/turn', { auth: 'admin', body: TurnBody, summary: 'Answer the open question: the next one, or the same again with the problem' }, req =>
    interview.turn(req.body.id, req.user!, req.body.answer, admin(req)));
  http.post('/finish', { auth: 'admin', body: FinishBody, summary: 'The proposed configuration as a diff; with confirm: true, applied through the admin routes' }, req =>
    interview.finish(req.body.id, req.user!, req.body.confirm === true, admin(req)));
}
