import type { HttpRouter } from 'plinth/sdk';
import type { StaticSite } from './static-site';

/** `/dashboard`: the built web app; index.html answers every client route. */
export function registerRoutes(http: HttpRouter, site: StaticSite): void {
  const options = { auth: 'public' as const, summary: 'The dashboard web app (static files; client routes answer index.html)', tags: ['dashboard'] };
  http.get('/dashboard', options, req => site.serve('index.html', req.headers));
  http.get('/dashboard/{*path}', options, req => site.serve(req.params.path ?? 'index.html', req.headers));
}
