import { timingSafeEqual } from 'node:crypto';
import { assertTokenScope, errors, reply, type RouteHandler, type RouteOptions } from '../../sdk';
import type { AuthStore } from '../auth/auth-store';
import { bearerToken } from '../http/request-auth';
import type { Method, RouteGroup } from '../http/routes';
import { isLoopback } from '../process-settings';
import type { KernelMetrics } from './metrics';

/**
 * `GET /metrics` for Prometheus: open to a scraper on this machine (a loopback peer with no
 * `X-Forwarded-For`, so a local balancer's clients are not taken for local), else it needs a
 * bearer token: `PLINTH_METRICS_TOKEN`, or an admin's.
 */
export function registerMetricsRoute(group: RouteGroup, deps: { metrics: KernelMetrics; auth: AuthStore; token: string | undefined }): void {
  const route = (method: Method, path: string, options: RouteOptions, handler: RouteHandler) => group.add({ method, path, options: { tags: ['kernel'], ...options }, handler });
  route('GET', '/metrics', { auth: 'public', summary: 'Prometheus metrics (loopback, PLINTH_METRICS_TOKEN or an admin token)' }, async req => {
    const local = isLoopback(req.node.req.socket.remoteAddress) && req.headers['x-forwarded-for'] === undefined;
    if (!local) {
      const bearer = bearerToken(req.headers);
      if (!bearer) throw errors.unauthorized('metrics need a bearer token (PLINTH_METRICS_TOKEN or an admin token) from off this machine');
      const scraper = deps.token !== undefined && bearer.length === deps.token.length && timingSafeEqual(Buffer.from(bearer), Buffer.from(deps.token));
      if (!scraper) {
        const resolved = await deps.auth.resolveToken(bearer);
        if (!resolved) throw errors.unauthorized('the token is invalid, expired or revoked');
        assertTokenScope(resolved.scopes, undefined, 'GET /metrics');
        const { user } = resolved;
        if (user.role !== 'admin') throw errors.forbidden('metrics are for admins and the metrics token');
      }
    }
    return reply(200, await deps.metrics.text(), { type: deps.metrics.contentType, headers: { 'cache-control': 'no-store' } });
  });
}
