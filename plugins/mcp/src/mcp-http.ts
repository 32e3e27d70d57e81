import { randomUUID } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { HANDLED, NodeUnreachableError, forwardRequest, originAllowed, reply, wasForwarded, type AuthService, type ClusterService, type Logger, type RouteRequest, type User } from 'plinth/sdk';

interface McpSession {
  id: string;
  userId: string;
  transport: StreamableHTTPServerTransport;
  server: Server;
  lastSeen: number;
  /** Responses still open (a request in flight, a GET event stream): while > 0 the session is active. */
  open: number;
}

export interface McpHttpOptions {
  auth: AuthService;
  log: Logger;
  now(): number;
  createServer(): Server;
  /** Host names (no port) allowed in `Host` and `Origin`, beside the loopback names. */
  allowedHosts: string[];
  /** The kernel's own host name, known only once it listens. */
  ownHost(): string | undefined;
  maxSessions: number;
  /** Sessions one user may hold; over it, initialize answers 429. */
  maxSessionsPerUser: number;
  sessionIdleMs: number;
  /** Sessions live in the process that opened them; their ids name its node, so any kernel can relay to it. */
  cluster: Pick<ClusterService, 'nodeId' | 'nodeUrl'>;
}

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]', '::1'];

/**
 * The Streamable HTTP endpoint at `/mcp`, adapting the SDK's Node transport to a Plinth route:
 * the route is `public` so that refusals are MCP-shaped (JSON-RPC error bodies, `WWW-Authenticate`)
 * and the bearer check is done here, on every request, binding each session to one user.
 *
 * Behind a balancer without sticky sessions a request may reach a kernel that does not hold its
 * session: the session id starts with the owner's node id, and the request is relayed there over
 * HTTP with the caller's own bearer (the owner checks it again). A session whose kernel is gone
 * answers 404 "Session not found", which per the MCP spec (session management) makes the client
 * initialize a new one — unlike the SDKs' in-memory sessions (typescript-sdk#330), which answer
 * that for 1 − 1/N of the requests behind N kernels.
 */
export class McpHttpEndpoint {
  private readonly sessions = new Map<string, McpSession>();
  private readonly allowed: Set<string>;

  constructor(private readonly o: McpHttpOptions) {
    this.allowed = new Set([...LOOPBACK, ...o.allowedHosts.map(h => h.toLowerCase())]);
  }

  get sessionCount(): number { return this.sessions.size; }

  async handle(req: RouteRequest): Promise<unknown> {
    // DNS rebinding: a browser page on evil.example resolving to 127.0.0.1 still sends its own Host and Origin.
    const refusal = this.checkHostAndOrigin(req.headers);
    if (refusal) return rpcError(403, -32000, refusal);

    const token = bearer(req.headers.authorization);
    const user = token ? await this.o.auth.verifyToken(token) : undefined;
    if (!user) {
      return rpcError(401, -32001, token ? 'the bearer token is invalid, expired or revoked' : 'authentication required: send a Plinth token as a bearer token',
        { 'www-authenticate': 'Bearer realm="plinth"' });
    }

    let body: unknown;
    if (req.method === 'POST') {
      try {
        body = JSON.parse(req.rawBody?.toString('utf8') ?? '');
      } catch {
        return rpcError(400, -32700, 'Parse error: the body is not JSON');
      }
    }

    const sessionId = header(req.headers['mcp-session-id']);
    let session: McpSession | undefined;
    if (sessionId) {
      session = this.sessions.get(sessionId);
      if (!session) return this.relay(req, sessionId);
      // Another user's session answers like an unknown one, so session ids leak nothing.
      if (session.userId !== user.id) return sessionNotFound();
    } else if (req.method === 'POST' && (isInitializeRequest(body) || (Array.isArray(body) && body.some(isInitializeRequest)))) {
      const mine = [...this.sessions.values()].filter(s => s.userId === user.id).length;
      if (mine >= this.o.maxSessionsPerUser) {
        return rpcError(429, -32000, `too many MCP sessions for this user (${this.o.maxSessionsPerUser}); end one with DELETE /mcp first`);
      }
      if (this.sessions.size >= this.o.maxSessions && !this.evictOldestIdle()) {
        return rpcError(503, -32000, `too many active MCP sessions (${this.o.maxSessions}); try again later`);
      }
      session = this.open(user);
    } else {
      return rpcError(400, -32000, 'Bad Request: no valid MCP-Session-Id header; send initialize first');
    }

    const active = session;
    active.lastSeen = this.o.now();
    active.open++;
    req.node.res.once('close', () => { active.open--; active.lastSeen = this.o.now(); });
    const nodeReq = req.node.req as typeof req.node.req & { auth?: AuthInfo };
    nodeReq.auth = { token: token!, clientId: user.id, scopes: [], extra: { user } };
    await session.transport.handleRequest(nodeReq, req.node.res, body);
    return HANDLED;
  }

  /** A session this kernel does not hold: relayed to the node its id names, if that one lives. */
  private async relay(req: RouteRequest, sessionId: string): Promise<unknown> {
    const { nodeId } = this.o.cluster;
    const owner = sessionId.slice(0, sessionId.lastIndexOf('.'));
    // A forwarded request is answered here, never sent on: a stale id cannot make kernels loop.
    if (!owner || owner === nodeId || wasForwarded(req.headers)) return sessionNotFound();
    const url = await this.o.cluster.nodeUrl(owner);
    if (!url) return sessionNotFound();
    try {
      return await forwardRequest(req, { from: nodeId, to: owner, url });
    } catch (err) {
      // Refused or reset before answering: the owner's process (and its sessions) died before its heartbeat lapsed.
      if (err instanceof NodeUnreachableError) {
        this.o.log.info('MCP session relay: owner unreachable', { session: sessionId, node: owner, error: err.message });
        return sessionNotFound();
      }
      throw err;
    }
  }

  /** Runs `fn` on every live session's server (notifications such as `tools/list_changed`). */
  broadcast(fn: (server: Server) => Promise<void>): void {
    for (const s of this.sessions.values()) {
      fn(s.server).catch(err => this.o.log.debug('MCP notification not delivered', { session: s.id, error: String(err) }));
    }
  }

  closeIdle(idleMs = this.o.sessionIdleMs): void {
    const cutoff = this.o.now() - idleMs;
    for (const s of [...this.sessions.values()]) if (s.lastSeen <= cutoff) void this.close(s);
  }

  /**
   * At `maxSessions`, room for a new session is made by closing the one idle the longest (no
   * request in flight, no open event stream) of any user; an active session is never closed.
   */
  private evictOldestIdle(): boolean {
    let oldest: McpSession | undefined;
    for (const s of this.sessions.values()) if (s.open === 0 && (!oldest || s.lastSeen < oldest.lastSeen)) oldest = s;
    if (!oldest) return false;
    this.o.log.info('MCP session evicted to make room', { session: oldest.id, idleMs: this.o.now() - oldest.lastSeen });
    void this.close(oldest);
    return true;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map(s => this.close(s)));
  }

  private open(user: User): McpSession {
    const session = { userId: user.id, lastSeen: this.o.now(), open: 0 } as McpSession;
    session.transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => `${this.o.cluster.nodeId}.${randomUUID()}`,
      onsessioninitialized: id => { session.id = id; this.sessions.set(id, session); },
    });
    session.transport.onclose = () => { if (session.id) this.sessions.delete(session.id); };
    session.server = this.o.createServer();
    // connect() only wires callbacks and starts the transport; it never waits on the network.
    void session.server.connect(session.transport);
    return session;
  }

  private async close(s: McpSession): Promise<void> {
    this.sessions.delete(s.id);
    await s.server.close().catch(() => undefined);
  }

  private checkHostAndOrigin(headers: RouteRequest['headers']): string | undefined {
    const host = header(headers.host);
    const own = this.o.ownHost();
    if (own && !this.allowed.has(own)) this.allowed.add(own.toLowerCase());
    if (!host || !this.allowed.has(hostname(host))) return `Forbidden: host "${host ?? ''}" is not allowed`;
    const origin = header(headers.origin);
    // Only the allowlist counts for an Origin, not the Host it came with (DNS rebinding sends a matching Host).
    if (origin && !originAllowed(origin, undefined, name => this.allowed.has(name))) return `Forbidden: origin "${origin}" is not allowed`;
    return undefined;
  }
}

function sessionNotFound() {
  return rpcError(404, -32001, 'Session not found');
}

function rpcError(status: number, code: number, message: string, headers: Record<string, string> = {}) {
  return reply(status, { jsonrpc: '2.0', error: { code, message }, id: null }, { headers });
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function bearer(v: string | string[] | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header(v) ?? '');
  return m?.[1];
}

function hostname(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.replace(/:\d+$/, '');
}
