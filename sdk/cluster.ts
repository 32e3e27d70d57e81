import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { WebSocket } from 'ws';
import { createServiceRef } from './refs';
import { HANDLED } from './http';
import type { RouteRequest } from './http-types';

/**
 * This kernel as one node of several on one database (the kernel's `kernel_nodes` table, `GET
 * /api/cluster`). What lives in one process — a run's PTY, an MCP session — is pinned to its node
 * id; a request for it that reaches another kernel is forwarded to the owner's URL.
 */
export interface ClusterService {
  /** This kernel's node id. */
  readonly nodeId: string;
  /** Where other kernels reach node `id`; undefined once its heartbeat has lapsed (dead) or when it never existed. */
  nodeUrl(id: string): Promise<string | undefined>;
  /** The ids of the nodes whose heartbeat holds (this one among them). */
  liveNodes(): Promise<string[]>;
}

export const clusterRef = createServiceRef<ClusterService>({ id: 'core.cluster' });

/**
 * Set on a request one kernel forwards to another (its value: the forwarding node). The owner
 * answers such a request itself or refuses it, never forwards it on, so a stale pin cannot loop.
 * A client sending it gains nothing: the request is authenticated by its own credentials anyway.
 */
export const FORWARDED_BY = 'x-plinth-forwarded-by';
/** On a forwarded answer: the node that served it (the landing kernel's is `x-plinth-node`). */
export const FORWARDED_TO = 'x-plinth-forwarded-to';

export function wasForwarded(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): boolean {
  return headers[FORWARDED_BY] !== undefined;
}

/** The owner node could not be reached at all (no answer started): its process is gone. */
export class NodeUnreachableError extends Error {
  constructor(readonly nodeId: string, cause: string) { super(`node ${nodeId} did not answer: ${cause}`); }
}

// Per connection, or describing this hop's framing: never passed on.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length', 'x-plinth-node']);

function passOn(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/**
 * Sends a request that reached this kernel on to node `to` at `url` with the caller's own
 * credentials (the owner authenticates it as if it had come directly: forwarding grants nothing)
 * and streams the answer back — JSON and SSE alike, until either side closes. Resolves HANDLED;
 * rejects with NodeUnreachableError when no answer started (refused, reset, `connectTimeoutMs`).
 */
export function forwardRequest(req: RouteRequest, target: { from: string; to: string; url: string; connectTimeoutMs?: number }): Promise<typeof HANDLED> {
  const incoming = req.node.req;
  const url = new URL(incoming.url ?? req.path, target.url);
  const body = req.rawBody ?? (req.body === undefined || req.method === 'GET' ? undefined : Buffer.from(JSON.stringify(req.body)));
  const headers: Record<string, string | string[]> = { ...passOn(incoming.headers), [FORWARDED_BY]: target.from, 'x-forwarded-for': [incoming.headers['x-forwarded-for'], req.ip].filter(Boolean).join(', ') };
  // The Host the client sent: the owner's Host and Origin checks see what the landing kernel saw.
  if (incoming.headers.host) headers.host = incoming.headers.host;
  if (body) { headers['content-length'] = String(body.length); if (!req.rawBody) headers['content-type'] = 'application/json'; }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let answered = false;
    const upstream = send(url, { method: req.method, headers, timeout: target.connectTimeoutMs ?? 5000 }, (res: IncomingMessage) => {
      answered = true;
      upstream.setTimeout(0);
      const out = req.node.res;
      out.writeHead(res.statusCode ?? 502, { ...passOn(res.headers), [FORWARDED_TO]: target.to });
      out.flushHeaders();
      res.pipe(out);
      res.once('end', () => resolve(HANDLED));
      res.once('error', () => { out.destroy(); resolve(HANDLED); });
    });
    const fail = (cause: string) => {
      upstream.destroy();
      if (!answered) reject(new NodeUnreachableError(target.to, cause));
      else { req.node.res.destroy(); resolve(HANDLED); }
    };
    upstream.once('timeout', () => fail('no answer in time'));
    upstream.once('error', err => fail((err as NodeJS.ErrnoException).code ?? err.message));
    // The client went away (an SSE stream closed): so does the forwarded request.
    req.node.res.once('close', () => { if (!req.node.res.writableFinished) upstream.destroy(); });
    upstream.end(body);
  });
}

/**
 * Joins a WebSocket that reached this kernel to the same endpoint on node `to`: frames pass both
 * ways as they are, and either side closing closes the other with its code. `headers` authenticate
 * the upstream upgrade (the caller's credentials). Rejects with NodeUnreachableError when the
 * upstream socket does not open; then the client socket is left to the caller.
 */
export function forwardSocket(socket: WebSocket, target: { from: string; to: string; url: string; headers: Record<string, string>; connectTimeoutMs?: number }): Promise<void> {
  const { WebSocket: Ws } = require('ws') as typeof import('ws');
  const upstream = new Ws(target.url.replace(/^http/, 'ws'), { headers: { ...target.headers, [FORWARDED_BY]: target.from }, handshakeTimeout: target.connectTimeoutMs ?? 5000 });
  // Frames sent by the client before the upstream opened are kept in order.
  const early: Array<{ data: unknown; binary: boolean }> = [];
  const fromClient = (data: unknown, binary: boolean) => {
    if (upstream.readyState === upstream.OPEN) upstream.send(data as Buffer, { binary });
    else early.push({ data, binary });
  };
  socket.on('message', fromClient);
  socket.once('close', () => { if (upstream.readyState === upstream.CONNECTING) upstream.terminate(); });
  return new Promise((resolve, reject) => {
    let settled = false;
    upstream.once('unexpected-response', (_req, res) => {
      // The owner refused the upgrade (401, 404…): the client hears why, as a close reason.
      settled = true;
      let text = '';
      res.on('data', (c: Buffer) => { text += c; });
      res.once('end', () => {
        let message = `HTTP ${res.statusCode}`;
        try { message = JSON.parse(text).error?.message ?? message; } catch { /* not JSON */ }
        socket.off('message', fromClient);
        close(socket, 4000 + Math.min(res.statusCode ?? 500, 999), message);
        resolve();
      });
    });
    upstream.on('error', err => {
      if (settled) return close(socket, 1011, `node ${target.to}: ${err.message}`);
      settled = true;
      socket.off('message', fromClient);
      reject(new NodeUnreachableError(target.to, err.message));
    });
    upstream.once('open', () => {
      settled = true;
      for (const f of early.splice(0)) upstream.send(f.data as Buffer, { binary: f.binary });
      upstream.on('message', (data, binary) => { if (socket.readyState === socket.OPEN) socket.send(data as Buffer, { binary }); });
      upstream.once('close', (code, reason) => close(socket, code, reason.toString()));
      socket.once('close', (code, reason) => close(upstream, code, reason.toString()));
      resolve();
    });
  });
}

function close(ws: WebSocket, code: number, reason: string): void {
  // 1005/1006 (no status, abnormal) may not be sent in a close frame.
  const sendable = code === 1000 || (code >= 3000 && code < 5000) || (code >= 1001 && code <= 1014 && code !== 1005 && code !== 1006);
  if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(sendable ? code : 1011, Buffer.from(reason).subarray(0, 120).toString());
}
