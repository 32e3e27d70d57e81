import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import { SESSION_COOKIE, assertTokenScope, bearerToken, cookieToken, errors, originAllowed, type AuthLevel, type User } from '../../sdk';
import type { AuthStore, ResolvedToken } from '../auth/auth-store';

/**
 * Resolves the caller for a `user` or `admin` route. A cookie session may not change state from
 * another origin (CSRF): non-GET requests authenticated by cookie need a same-origin `Origin`.
 * A scoped token passes only a route that declares one of its scopes (`scope`).
 */
export function authenticate(ctx: Context, level: AuthLevel, store: AuthStore, scope?: string): User | Promise<User> {
  let token = bearerToken(ctx.headers);
  if (!token) {
    token = cookieToken(ctx.get('cookie'));
    if (token && !['GET', 'HEAD'].includes(ctx.method)) {
      if (!originAllowed(ctx.get('origin'), ctx.get('host'))) throw errors.forbidden('cookie-authenticated requests that change state must come from the same origin');
    }
  }
  if (!token) throw errors.unauthorized();
  // A token seen in the last seconds is answered from memory, without a promise.
  const cached = store.cachedToken(token);
  if (cached) return admit(cached, level, scope, ctx);
  return store.resolveToken(token).then(resolved => {
    if (!resolved) throw errors.unauthorized('the token is invalid, expired or revoked');
    return admit(resolved, level, scope, ctx);
  });
}

function admit({ user, scopes }: ResolvedToken, level: AuthLevel, scope: string | undefined, ctx: Context): User {
  if (level === 'admin' && user.role !== 'admin') throw errors.forbidden('this route needs the admin role');
  assertTokenScope(scopes, scope, `${ctx.method} ${ctx.state.route ?? ctx.path}`);
  return user;
}

/**
 * Whether the client reached us over TLS: our own socket is TLS, or the peer is a proxy named in
 * PLINTH_TRUST_PROXY and says so in `X-Forwarded-Proto` (anyone else could just send the header).
 */
export function cameOverTls(req: IncomingMessage, trustProxy: readonly string[]): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  const peer = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  if (!trustProxy.some(p => p.replace(/^::ffff:/, '') === peer)) return false;
  const proto = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0].trim().toLowerCase();
  return first === 'https';
}

/** The session cookie; `Secure` whenever the request came over TLS, so it is never sent back in clear. */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}
