import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { PlinthError, assertTokenScope, bearerToken, errors, isPlinthError, type Disposer, type User, type WsConnectionInfo } from '../../sdk';
import type { AuthStore } from '../auth/auth-store';
import { canSee, topicMatches, type KernelEventBus } from '../events';
import type { PerUserCap } from './user-caps';

type WsAuth = 'public' | 'user' | 'admin';
export interface WsEndpoint { owner: string; auth: WsAuth; scope?: string; handler: (socket: WebSocket, info: WsConnectionInfo) => void; sockets: Set<WebSocket> }

/**
 * Short-lived single-use tickets, because browsers cannot set headers on a WebSocket. Bounded:
 * expired tickets are swept (at most once a second), and at the cap the oldest unredeemed one
 * gives way, so a client minting tickets in a loop cannot grow the map without end.
 */
export class WsTickets {
  private readonly tickets = new Map<string, { userId: string; expires: number }>();
  private nextSweep = 0;

  constructor(private readonly clock: { now(): number } = Date, readonly maxTickets = 10_000) {}

  get size(): number { return this.tickets.size; }

  issue(userId: string, ttlMs = 60_000): { ticket: string; expiresAt: string } {
    const now = this.clock.now();
    if (now >= this.nextSweep || this.tickets.size >= this.maxTickets) {
      this.nextSweep = now + 1000;
      for (const [t, v] of this.tickets) if (v.expires <= now) this.tickets.delete(t);
    }
    // A Map iterates in insertion order: the first key is the oldest ticket.
    while (this.tickets.size >= this.maxTickets) this.tickets.delete(this.tickets.keys().next().value!);
    const ticket = randomBytes(24).toString('base64url');
    this.tickets.set(ticket, { userId, expires: now + ttlMs });
    return { ticket, expiresAt: new Date(now + ttlMs).toISOString() };
  }

  redeem(ticket: string): string | undefined {
    const v = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    return v && v.expires > this.clock.now() ? v.userId : undefined;
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
  /** Open WebSockets per user; over it the upgrade is refused with 429. */
  perUser: PerUserCap;
  allowedOrigin(origin: string, host: string | undefined): boolean;
  /** The same client and Host rules as HTTP (loopback-only mode, DNS rebinding). */
  admitted(remoteAddress: string | undefined, host: string | undefined): boolean;
}

type UpgradeDone = (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void;

/** A refused upgrade answers the same JSON error body as HTTP. */
function refuse(done: UpgradeDone, err: PlinthError): void {
  done(false, err.status, JSON.stringify(err.toJSON()), { 'Content-Type': 'application/json' });
}

/** Decides an upgrade before it is accepted, so a refused client gets a plain HTTP 401/403/404/429. */
export function verifyUpgrade(deps: UpgradeDeps) {
  return (info: { req: IncomingMessage; origin?: string }, done: UpgradeDone) => {
    (async () => {
      if (!deps.admitted(info.req.socket.remoteAddress, info.req.headers.host)) return refuse(done, new PlinthError(403, 'PLINTH_ERR_HOST', 'client or Host not allowed'));
      const url = new URL(info.req.url ?? '/', 'http://localhost');
      const origin = info.req.headers.origin;
      if (origin && !deps.allowedOrigin(origin, info.req.headers.host)) return refuse(done, errors.forbidden('origin not allowed'));
      const endpoint: Pick<WsEndpoint, 'auth' | 'scope'> | undefined = url.pathname === '/ws' ? { auth: 'user' } : deps.table.get(url.pathname);
      if (!endpoint) return refuse(done, errors.notFound('WebSocket endpoint ' + url.pathname));
      let user: User | undefined;
      const ticket = url.searchParams.get('ticket');
      const token = bearerToken(info.req.headers);
      if (ticket) {
        // Tickets are handed out to unscoped tokens and sessions only (POST /api/ws/ticket declares no scope).
        const userId = deps.tickets.redeem(ticket);
        user = userId ? await deps.auth.getUser(userId) : undefined;
      } else if (token) {
        const resolved = await deps.auth.resolveToken(token);
        if (resolved && endpoint.auth !== 'public') assertTokenScope(resolved.scopes, endpoint.scope, `WebSocket ${url.pathname}`);
        user = resolved?.user;
      }
      if (endpoint.auth !== 'public' && !user) return refuse(done, errors.unauthorized('authentication required: bearer token or ?ticket='));
      if (endpoint.auth === 'admin' && user?.role !== 'admin') return refuse(done, errors.forbidden('admin only'));
      if (user) {
        // The slot is held by the TCP connection: it frees when the socket closes, whether the
        // handshake completed or not.
        const release = deps.perUser.acquire(user.id);
        info.req.socket.once('close', release);
      }
      (info.req as any).plinthUser = user;
      done(true);
    })().catch(err => refuse(done, isPlinthError(err) ? err : new PlinthError(500, 'PLINTH_ERR_INTERNAL', 'internal error')));
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
