import { errors } from './error-catalogue';
import type { Reply, User } from './types';

/** A response with a status, headers or a non-JSON type; plain return values are JSON 200. */
export function reply(status: number, body?: unknown, options: { headers?: Record<string, string>; type?: string } = {}): Reply {
  return { __plinthReply: true, status, body, headers: options.headers, type: options.type };
}

export function isReply(value: unknown): value is Reply {
  return !!value && typeof value === 'object' && (value as Reply).__plinthReply === true;
}

/**
 * The one check of a browser's `Origin` header: it is allowed when its host (with port) is the
 * `Host` the request was sent to, or when `allowName` accepts its host name (loopback names, an
 * allowlist). An absent or unparsable origin is refused; callers that accept requests without one
 * (non-browser clients) test for its absence first.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowName?: (hostname: string) => boolean): boolean {
  if (!origin) return false;
  let url: URL;
  try { url = new URL(origin); } catch { return false; }
  return (!!host && url.host === host) || !!allowName?.(url.hostname);
}

/** Returned by a handler that wrote the response itself through `req.node.res`. */
export const HANDLED = Symbol.for('plinth.handled');

/** Another user's object answers 404 (not 403), so ids do not leak; admins see everything. */
export function assertOwner(user: User | undefined, owner: string | null | undefined, what: string): void {
  if (!user) throw errors.unauthorized();
  if (user.role === 'admin') return;
  if (owner !== user.id) throw errors.notFound(what);
}

/** The owner to filter lists by: the caller, or nobody for admins. */
export function ownerFilter(user: User | undefined): string | undefined {
  if (!user) throw errors.unauthorized();
  return user.role === 'admin' ? undefined : user.id;
}

/** The one pagination shape: `?limit=&cursor=` → `{ items, nextCursor }`. */
export interface Page<T> { items: T[]; nextCursor: string | null }

export const paginationQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  cursor: { type: 'string', maxLength: 200 },
} as const;

/**
 * Keyset position of the last item of a page (opaque to clients, the one cursor format): the
 * value of its order column — its creation time in epoch ms, or a serial number for lists that
 * page by one — and its id.
 */
export interface PagePosition { ms: number; id: string }

export function decodeCursor(cursor: string | undefined): PagePosition | undefined {
  if (!cursor) return undefined;
  const [ms, id] = Buffer.from(cursor, 'base64url').toString().split(':');
  if (!id || !Number.isFinite(Number(ms))) throw errors.badRequest('cursor is not one this API gave out');
  return { ms: Number(ms), id };
}

export function encodeCursor(position: PagePosition): string {
  return Buffer.from(`${position.ms}:${position.id}`).toString('base64url');
}

/** A page from `limit + 1` rows (the extra row only says whether there is more). */
export function pageOf<T, V = T>(rows: T[], limit: number, positionOf: (row: T) => PagePosition, view?: (row: T) => V): Page<V> {
  const items = rows.slice(0, limit);
  return {
    items: view ? items.map(view) : (items as unknown as V[]),
    nextCursor: rows.length > limit && items.length ? encodeCursor(positionOf(items[items.length - 1])) : null,
  };
}
