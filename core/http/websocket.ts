import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Disposer, User, WsConnectionInfo } from '../../sdk';
import type { AuthStore } from '../auth/auth-store';
import { canSee, topicMatches, type KernelEventBus } from '../events';
import { bearerToken } from './request-auth';

type WsAuth = 'public' | 'user' | 'admin';
export interface WsEndpoint { owner: string; auth: WsAuth; handler: (socket: WebSocket, info: WsConnectionInfo) => void; sockets: Set<WebSocket> }

/** Short-lived single-use tickets, because browsers cannot set headers on a WebSocket. */
export class WsTickets {
  private readonly tickets = new Map<string, { userId: string; expires: number }>();

  issue(userId: string, ttlMs = 60_000): { ticket: string; expiresAt: string } {
    const now = Date.now();
    for (const [t, v] of this.tickets) if (v.expires < now) this.tickets.delete(t);
    const ticket = randomBytes(24).toString('base64url');
    this.tickets.set(ticket, { userId, expires: now + ttlMs });
    return { ticket, expiresAt: new Date(now + ttlMs).toISOString() };
  }

  redeem(ticket: string): string | undefined {
    const v = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    return v && v.expires > Date.now() ? v.userId : undefined;
  }
}

/** Plugin WebSocket endpoints by exact path; swapped per generation like routes. */
export class WsTable {
  private readonly byOwner = new Map<string, Map<string, WsEndpoint>>();
  private index = new Map<string, WsEndpoint>();

  install(owner: string, endpoints: Map<string, WsEndpoint> | undefined): void {
    if (endpoints) this.byOwner.set(owner, endpoints); else this.byOwner.delete(owner);
    this.reindex();
  }

  reindex(): void {
    const index = new Map<string, WsEndpoint>();
    for (const eps of this.byOwner.values()) for (const [p, e] of eps) index.set(p, e);
    this.index = index;
  }

  get(path: string): WsEndpoint | undefined { return this.index.get(path); }
  countFor(owner: string): number { return this.byOwner.get(owner)?.size ?? 0; }
}

export interface UpgradeDeps {
  auth: AuthStore; tickets: WsTickets; table: WsTable; bus: KernelEventBus;
  allowedOrigin(origin: string, host: string | undefined): boolean;
  /** The same client and Host rules as HTTP (loopback-only mode, DNS rebinding). */
  admitted(remoteAddress: string | undefined, host: string | undefined): boolean;
}

/** Decides an upgrade before it is accepted, so a refused client gets a plain HTTP 401/403/404. */
export function verifyUpgrade(deps: UpgradeDeps) {
  return (info: { req: IncomingMessage; origin?: string }, done: (ok: boolean, code?: number, message?: string) => void) => {
    (async () => {
      if (!deps.admitted(info.req.socket.remoteAddress, info.req.headers.host)) return done(false, 403, 'client or Host not allowed');
      const url = new URL(info.req.url ?? '/', 'http://localhost');
      const origin = info.req.headers.origin;
      if (origin && !deps.allowedOrigin(origin, info.req.headers.host)) return done(false, 403, 'origin not allowed');
      const endpoint = url.pathname === '/ws' ? { auth: 'user' as WsAuth } : deps.table.get(url.pathname);
      if (!endpoint) return done(false, 404, 'no WebSocket endpoint here');
      let user: User | undefined;
      const ticket = url.searchParams.get('ticket');
      const token = bearerToken(info.req.headers);
      if (ticket) {
        const userId = deps.tickets.redeem(ticket);
        user = userId ? await deps.auth.getUser(userId) : undefined;
      } else if (token) {
        user = await deps.auth.verifyToken(token);
      }
      if (endpoint.auth !== 'public' && !user) return done(false, 401, 'authentication required: bearer token or ?ticket=');
      if (endpoint.auth === 'admin' && user?.role !== 'admin') return done(false, 403, 'admin only');
      (info.req as any).plinthUser = user;
      done(true);
    })().catch(() => done(false, 500, 'internal error'));
  };
}

const MAX_BUFFERED = 1024 * 1024;
const MAX_TOPICS = 100;

/** `/ws`: subscribe to topics and receive bus events the caller may see. */
export function attachEventSocket(socket: WebSocket, user: User, bus: KernelEventBus): void {
  const patterns = new Set<string>();
  const send = (msg: unknown) => {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > MAX_BUFFERED) {
      // A consumer that cannot keep up is cut off rather than buffered for without bound.
      socket.close(4008, 'too slow: fell behind the event stream');
      setTimeout(() => socket.terminate(), 1000).unref();
      return;
    }
    socket.send(JSON.stringify(msg));
  };
  const dispose: Disposer = bus.subscribe('*', event => {
    if (!canSee(event, user)) return;
    for (const p of patterns) if (topicMatches(p, event.topic)) return send({ type: 'event', event });
  });
  socket.on('message', data => {
    let msg: any;
    try { msg = JSON.parse(String(data)); } catch { return send({ type: 'error', error: { code: 'PLINTH_ERR_MALFORMED_JSON', message: 'frames must be JSON' } }); }
    const topics = Array.isArray(msg?.topics) ? msg.topics.filter((t: unknown) => typeof t === 'string' && t.length > 0 && t.length < 200) : null;
    if (msg?.type === 'subscribe' && topics) {
      if (patterns.size + topics.length > MAX_TOPICS) return send({ type: 'error', error: { code: 'PLINTH_ERR_TOO_MANY_TOPICS', message: `at most ${MAX_TOPICS} topics per connection` } });
      for (const t of topics) patterns.add(t);
      return send({ type: 'subscribed', topics: [...patterns] });
    }
    if (msg?.type === 'unsubscribe' && topics) { for (const t of topics) patterns.delete(t); return send({ type: 'subscribed', topics: [...patterns] }); }
    if (msg?.type === 'ping') return send({ type: 'pong' });
    send({ type: 'error', error: { code: 'PLINTH_ERR_BAD_FRAME', message: 'expected {"type":"subscribe","topics":[...]}, unsubscribe or ping' } });
  });
  socket.on('close', () => dispose());
  send({ type: 'welcome', user: { id: user.id, role: user.role } });
}
