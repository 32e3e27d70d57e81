import type { Context } from 'koa';
import { errors, type AuthLevel, type User } from '../../sdk';
import type { AuthStore } from '../auth/auth-store';

export const SESSION_COOKIE = 'plinth_session';

export function bearerToken(headers: Record<string, string | string[] | undefined>): string | undefined {
  const h = headers.authorization;
  const value = Array.isArray(h) ? h[0] : h;
  const m = value && /^Bearer\s+(\S+)$/i.exec(value);
  return m ? m[1] : undefined;
}

export function cookieToken(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === SESSION_COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/**
 * Resolves the caller for a route's auth level. A cookie session may not change state from
 * another origin (CSRF): non-GET requests authenticated by cookie need a same-origin `Origin`.
 */
export async function authenticate(ctx: Context, level: AuthLevel, store: AuthStore): Promise<{ user?: User; tokenId?: string }> {
  if (level === 'public' || level === 'webhook') return {};
  let token = bearerToken(ctx.headers);
  if (!token) {
    token = cookieToken(ctx.get('cookie'));
    if (token && !['GET', 'HEAD'].includes(ctx.method)) {
      const origin = ctx.get('origin');
      if (!origin || new URL(origin).host !== ctx.get('host')) throw errors.forbidden('cookie-authenticated requests that change state must come from the same origin');
    }
  }
  if (!token) throw errors.unauthorized();
  const resolved = await store.resolveToken(token);
  if (!resolved) throw errors.unauthorized('the token is invalid, expired or revoked');
  if (level === 'admin' && resolved.user.role !== 'admin') throw errors.forbidden('this route needs the admin role');
  return resolved;
}
