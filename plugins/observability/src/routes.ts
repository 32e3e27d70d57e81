import { timingSafeEqual } from 'node:crypto';
import { errors, reply, type AuthService, type HttpRouter, type KernelStats } from 'plinth/sdk';
import type { KernelMetrics } from './metrics';
import { runtimeSurfaces } from './surfaces';

const isLoopback = (address: string | undefined) => !!address && /^(::1|(::ffff:)?127\.)/.test(address);

/**
 * `GET /metrics` for Prometheus: open to a scraper on this machine (a loopback peer with no
 * `X-Forwarded-For`, so a local balancer's clients are not taken for local), else it needs a
 * bearer token: the metrics token (`PLINTH_METRICS_TOKEN`), or an admin's.
 */
export function registerRoutes(http: HttpRouter, deps: { metrics: KernelMetrics; stats: KernelStats; auth: AuthService; token: string | undefined }): void {
  http.get('/api/runtime/surfaces', { auth: 'user', summary: 'Every way in (HTTP, WebSocket, channels, MCP, A2A, OpenAI/Anthropic APIs) and whether it is up' }, () => ({
    items: runtimeSurfaces(deps.stats),
    nextCursor: null,
  }));

  http.get('/metrics', { auth: 'public', summary: 'Prometheus metrics (loopback, PLINTH_METRICS_TOKEN or an admin token)' }, async req => {
    const local = isLoopback(req.node.req.socket.remoteAddress) && req.headers['x-forwarded-for'] === undefined;
    if (!local) {
      const bearer = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
      if (!bearer) throw errors.unauthorized('metrics need a bearer token (PLINTH_METRICS_TOKEN or an admin token) from off this machine');
      const scraper = deps.token !== undefined && bearer.length === deps.token.length && timingSafeEqual(Buffer.from(bearer), Buffer.from(deps.token));
      if (!scraper) {
        const user = await deps.auth.verifyToken(bearer);
        if (!user) throw errors.unauthorized('the token is invalid, expired or revoked');
        if (user.role !== 'admin') throw errors.forbidden('metrics are for admins and the metrics token');
      }
    }
    return reply(200, await deps.metrics.text(), { type: deps.metrics.contentType, headers: { 'cache-control': 'no-store' } });
  });
}
