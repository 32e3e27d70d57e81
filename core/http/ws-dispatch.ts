import type { Context } from 'koa';
import type { WebSocket } from 'ws';
import type { Logger, User } from '../../sdk';
import type { KernelEventBus } from '../events';
import { MAX_JSON_DEPTH, jsonTooDeep } from './json-depth';
import { attachEventSocket, type WsTable } from './websocket';

export interface WsDispatchDeps {
  table: WsTable;
  bus: KernelEventBus;
  log: Logger;
}

/** Routes an accepted upgrade: `/ws` to the kernel's event socket, any other path to the plugin endpoint that claims it. */
export function wsDispatch(deps: WsDispatchDeps) {
  return async (ctx: Context): Promise<void> => {
    const socket = (ctx as any).websocket as WebSocket;
    const user = (ctx.req as any).plinthUser as User | undefined;
    const url = new URL(ctx.req.url ?? '/', 'http://localhost');
    if (url.pathname === '/ws') {
      const fail = guardSocket(socket, 'kernel', deps.log);
      try { attachEventSocket(socket, user!, deps.bus); } catch (err) { fail(err, 'open'); }
      return;
    }
    const endpoint = deps.table.get(url.pathname);
    if (!endpoint) return socket.close(4404, 'no WebSocket endpoint here');
    const fail = guardSocket(socket, endpoint.owner, deps.log);
    endpoint.sockets.add(socket);
    socket.once('close', () => endpoint.sockets.delete(socket));
    try {
      const r = endpoint.handler(socket, { user, query: Object.fromEntries(url.searchParams), headers: ctx.req.headers }) as unknown;
      if (isThenable(r)) r.then(undefined, err => fail(err, 'open'));
    } catch (err) {
      fail(err, 'open');
    }
  };
}

/**
 * The kernel's safety net on a socket it hands to a handler: every listener (`on`, `once`,
 * `addEventListener`, `onmessage` — ws delivers them all through `emit`) runs inside it. A
 * listener that throws or rejects closes that socket with 1011 after a JSON error frame and is
 * logged against its owner; nothing else happens. Text frames of JSON nested deeper than
 * MAX_JSON_DEPTH are refused (1007) before any listener sees them.
 * Answers the function that reports a failure of the same socket (its open handler).
 */
export function guardSocket(socket: WebSocket, owner: string, log: Logger): (err: unknown, event: string) => void {
  let failed = false;
  const fail = (err: unknown, event: string) => {
    if (failed) return;
    failed = true;
    log.error('WebSocket handler failed', { plugin: owner, event, err });
    closeWithError(socket, 1011, 'internal error', 'PLINTH_ERR_INTERNAL', 'the handler of this socket failed; the server log has the details');
  };
  const emit = socket.emit;
  socket.emit = function guardedEmit(event: string | symbol, ...args: any[]): boolean {
    if (event === 'message' && !args[1] && looksLikeJson(args[0]) && jsonTooDeep(frameBytes(args[0]))) {
      closeWithError(socket, 1007, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, 'PLINTH_ERR_JSON_TOO_DEEP', `frames may nest JSON at most ${MAX_JSON_DEPTH} levels deep`);
      return true;
    }
    const listeners = socket.rawListeners(event);
    // ws closes the socket itself after an 'error' (a frame over maxPayload, a protocol error);
    // without a listener EventEmitter would throw it out of the receiver and end the process.
    if (event === 'error' && listeners.length === 0) return false;
    if (listeners.length === 0) return emit.call(socket, event, ...args);
    for (const listener of listeners) {
      try {
        const r = (listener as (...a: any[]) => unknown).apply(socket, args);
        if (isThenable(r)) r.then(undefined, err => fail(err, String(event)));
      } catch (err) {
        fail(err, String(event));
      }
    }
    return true;
  } as WebSocket['emit'];
  return fail;
}

function closeWithError(socket: WebSocket, closeCode: number, reason: string, code: string, message: string): void {
  if (socket.readyState !== socket.OPEN) return;
  try {
    socket.send(JSON.stringify({ type: 'error', error: { code, message } }));
    socket.close(closeCode, reason);
  } catch {
    socket.terminate();
  }
  // A peer that does not answer the close handshake is not waited for.
  setTimeout(() => socket.terminate(), 2000).unref();
}

function frameBytes(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(String(data));
}

/** Only frames that open like JSON are scanned; a plain-text protocol may use brackets freely. */
function looksLikeJson(data: unknown): boolean {
  const b = Buffer.isBuffer(data) ? data : Array.isArray(data) ? data[0] : data instanceof ArrayBuffer ? Buffer.from(data) : Buffer.from(String(data));
  if (!b) return false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    return c === 0x7b || c === 0x5b;
  }
  return false;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return !!v && typeof (v as PromiseLike<unknown>).then === 'function';
}
