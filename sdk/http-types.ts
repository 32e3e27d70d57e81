import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import type { AuthLevel, Disposer, JsonSchema, User } from './types';

/** What a plugin's routes and WebSocket endpoints see (re-exported by types.ts). */

// ---------------------------------------------------------------- HTTP

export interface RouteOptions {
  /** Mandatory: a route without it is refused at registration. */
  auth: AuthLevel;
  /**
   * The token scope that lets a scoped token in (`user` and `admin` routes): `'device'` opens the
   * route to paired devices. Unscoped tokens and sessions pass whatever it says (sdk/token-scopes.ts).
   */
  scope?: string;
  summary?: string;
  params?: JsonSchema;
  query?: JsonSchema;
  body?: JsonSchema;
  /** Documented in the OpenAPI output; not enforced. */
  response?: JsonSchema;
  /** Body size limit in bytes for this route (default from the kernel, 1 MiB). */
  bodyLimit?: number;
  /** Accept a non-JSON body (`rawBody` only), e.g. file uploads. */
  rawBody?: boolean;
  tags?: string[];
}

export interface SseMessage {
  id?: string | number;
  event?: string;
  data: unknown;
}

export interface SseStream {
  /** The id the client resumes after (`Last-Event-ID` header or `last_event_id` query). */
  readonly lastEventId: string | undefined;
  readonly closed: boolean;
  send(message: SseMessage): boolean;
  comment(text: string): void;
  close(): void;
  /** Resolves when the client goes away or `close()` is called. */
  done: Promise<void>;
  /**
   * Replays what was stored after `lastEventId`, then goes live without losing or doubling
   * anything that happens between the two: live items are held while the replay runs and are
   * dropped when their id was already replayed.
   */
  replayThenLive<T extends { id: string | number }>(options: {
    replay(afterId: string | undefined): Promise<T[]> | T[];
    live(push: (item: T) => void): Disposer;
    frame(item: T): SseMessage;
    /** Ends the stream when it returns true for an item (after sending it). */
    isLast?(item: T): boolean;
  }): Promise<void>;
}

export interface RouteRequest<P = Record<string, string>, Q = Record<string, unknown>, B = unknown> {
  method: string;
  path: string;
  params: P;
  query: Q;
  body: B;
  rawBody: Buffer | undefined;
  headers: Record<string, string | string[] | undefined>;
  /** The authenticated caller; undefined on `public` and `webhook` routes. */
  user: User | undefined;
  ip: string;
  /** Aborted when the client disconnects. */
  signal: AbortSignal;
  /** Switch the response to Server-Sent Events. */
  sse(): SseStream;
  /** In-process escape hatch for libraries that need Node's objects (MCP transports). */
  node: { req: IncomingMessage; res: ServerResponse };
}

export interface Reply {
  readonly __plinthReply: true;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  type?: string;
}

/** What a handler returns: data (JSON 200), a `reply(...)`, or nothing (204). */
export type RouteResult = unknown;
export type RouteHandler<P = any, Q = any, B = any> = (req: RouteRequest<P, Q, B>) => RouteResult | Promise<RouteResult>;

export interface HttpRouter {
  /** Relative paths mount under `/api/<pluginId>`; absolute ones must be claimed in the manifest. */
  get<P = any, Q = any>(path: string, options: RouteOptions, handler: RouteHandler<P, Q, undefined>): Disposer;
  post<P = any, Q = any, B = any>(path: string, options: RouteOptions, handler: RouteHandler<P, Q, B>): Disposer;
  put<P = any, Q = any, B = any>(path: string, options: RouteOptions, handler: RouteHandler<P, Q, B>): Disposer;
  patch<P = any, Q = any, B = any>(path: string, options: RouteOptions, handler: RouteHandler<P, Q, B>): Disposer;
  delete<P = any, Q = any, B = any>(path: string, options: RouteOptions, handler: RouteHandler<P, Q, B>): Disposer;
}

// ---------------------------------------------------------------- WebSocket

export interface WsConnectionInfo {
  user: User | undefined;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
}

export interface WsRegistry {
  /** A WebSocket endpoint at an absolute path the manifest claims (e.g. `/api/terminal`). */
  handle(path: string, options: { auth: Exclude<AuthLevel, 'webhook'>; scope?: string }, handler: (socket: WebSocket, info: WsConnectionInfo) => void): Disposer;
}
