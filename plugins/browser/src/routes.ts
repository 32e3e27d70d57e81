import { errors, reply, type HttpRouter } from 'plinth/sdk';
import type { ScreenshotStore } from './screenshot-store';
import type { BrowserSessions } from './session-registry';
import { ActionBody, IdParams, REQUIRED, SessionBody, type ActionRequest } from './schemas';

export function registerRoutes(http: HttpRouter, browsers: BrowserSessions, screenshots: ScreenshotStore): void {
  http.get('/status', { auth: 'user', summary: 'Whether Chromium is installed, this user\'s browsers (pages, memory) and the limits' },
    req => browsers.status(req.user!));

  http.post('/start', { auth: 'user', summary: 'Start a headless Chromium for this user (within sessionsPerUser)' }, async req => {
    const s = await browsers.start(req.user!);
    return reply(201, { session: s.id, pages: s.pages() });
  });

  http.post('/stop', { auth: 'user', body: SessionBody, summary: 'Close one browser of this user ({ session }) or all of them' },
    req => browsers.stop(req.user!, (req.body as { session?: string } | undefined)?.session));

  http.post('/action', { auth: 'user', body: ActionBody, summary: 'Act in the browser: navigate, click, type, press, select, scroll, wait_for, extract_text, screenshot, evaluate (admins); answers the page\'s URL and title and the result' }, async req => {
    const body = req.body as ActionRequest;
    const missing = REQUIRED[body.action].filter(f => body[f] === undefined);
    if (missing.length) throw errors.validation(`${body.action} needs ${missing.join(' and ')}`, missing.map(f => ({ field: `body/${f}`, message: `required for ${body.action}` })));
    // Running script in a page is the admins' alone: a user's agent could read any page's secrets with it.
    if (body.action === 'evaluate' && req.user!.role !== 'admin') throw errors.forbidden('evaluate is for admins only');
    return browsers.act(req.user!, body);
  });

  http.get('/screenshots/:id', { auth: 'user', params: IdParams, summary: 'A screenshot the browser took (owner only), as PNG' }, async req => {
    const row = await screenshots.get(req.params.id, req.user);
    return reply(200, screenshots.read(row.id), { type: row.content_type, headers: { 'x-content-type-options': 'nosniff' } });
  });
}
