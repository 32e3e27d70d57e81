import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import type { ServiceRef } from './refs';

export type JsonSchema = Record<string, unknown>;
export type Disposer = () => void | Promise<void>;
export type AuthLevel = 'public' | 'user' | 'admin' | 'webhook';
export type Role = 'admin' | 'user';

export interface User {
  id: string;
  email: string;
  name?: string;
  role: Role;
}

// ---------------------------------------------------------------- logging

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

// ---------------------------------------------------------------- HTTP

export interface RouteOptions {
  /** Mandatory: a route without it is refused at registration. */
  auth: AuthLevel;
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
  handle(path: string, options: { auth: Exclude<AuthLevel, 'webhook'> }, handler: (socket: WebSocket, info: WsConnectionInfo) => void): Disposer;
}

// ---------------------------------------------------------------- events

export interface PlinthEvent<T = unknown> {
  id: string;
  topic: string;
  payload: T;
  /** User id that owns the event; `null` for system events. */
  owner: string | null;
  /**
   * Who may see it on `/ws`: the owner (and admins), every signed-in user, admins only, or no
   * client at all (`internal`: for in-kernel subscribers on every kernel, e.g. a job's log lines
   * feeding the job's own SSE stream).
   */
  audience: 'owner' | 'all' | 'admin' | 'internal';
  time: string;
}

export interface PublishOptions {
  owner?: string | null;
  audience?: PlinthEvent['audience'];
  /** Store in the kernel's event log so that SSE clients can replay it. */
  persist?: boolean;
}

export interface EventBus {
  publish<T>(topic: string, payload: T, options?: PublishOptions): Promise<PlinthEvent<T>>;
  /** `pattern` is a topic, or a prefix ending in `.*`, or `*`. */
  subscribe<T = unknown>(pattern: string, handler: (event: PlinthEvent<T>) => void | Promise<void>): Disposer;
  /** Persisted events after `afterId` on matching topics, oldest first. */
  replay(pattern: string, afterId: string | undefined, limit?: number): Promise<PlinthEvent[]>;
}

// ---------------------------------------------------------------- tools

export type ToolRisk = 'safe' | 'gated' | 'blocked';

export interface ToolCallContext {
  user: User;
  sessionId?: string;
  jobId?: string;
  turnId?: string;
  signal?: AbortSignal;
  /** Where the call comes from, for audits: `agent`, `mcp`, `api`, `job`, … */
  via?: string;
  /** A way back to the caller while the tool runs, when its transport has one (MCP does). */
  caller?: ToolCaller;
}

/**
 * Messages a running tool may send to whoever called it. MCP maps them to `notifications/message`,
 * `notifications/progress` and server-to-client requests (`sampling/createMessage`,
 * `elicitation/create`); callers without such a channel leave `ToolCallContext.caller` unset.
 */
export interface ToolCaller {
  log(level: 'debug' | 'info' | 'notice' | 'warning' | 'error', data: unknown): Promise<void>;
  /** Only delivered when the caller asked for progress (MCP: a `progressToken`). */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /** Rejects when the caller does not support the method. */
  request(method: string, params: Record<string, unknown>): Promise<unknown>;
}

export interface ToolDefinition<I = any, O = unknown> {
  /** Short name; the registry prefixes it with the plugin id (`search` → `memory.search`). */
  name: string;
  description: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  risk: ToolRisk;
  run(input: I, ctx: ToolCallContext): Promise<O> | O;
}

export interface ToolInfo {
  name: string;
  plugin: string;
  description: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  risk: ToolRisk;
}

export interface ToolRegistry {
  register<I, O>(tool: ToolDefinition<I, O>): Disposer;
  list(): ToolInfo[];
  get(name: string): ToolInfo | undefined;
  /** Validates input, asks approvals for `gated` tools (refused when none is present), runs. */
  execute(name: string, input: unknown, ctx: ToolCallContext): Promise<unknown>;
  /** Called whenever the set of tools changes (reload, toggle). */
  onChange(listener: () => void): Disposer;
}

/**
 * The kernel's tool policy, under `toolPolicyRef`: the tool registry asks it before a `gated`
 * tool runs. The kernel owns the service; a plugin implements it (the approvals plugin does) by
 * naming `core.toolPolicy` under `contributes.services` in its manifest and returning it from setup.
 * Without one, `gated` tools are refused (fail closed).
 */
export interface ApprovalDecision { approved: boolean; reason?: string; requestId?: string }
export interface ToolPolicyService {
  /** Policy may raise or lower a tool's declared risk (per-tool overrides, auto-approve lists). */
  riskFor?(tool: string, declared: ToolRisk, user: User): ToolRisk;
  request(input: { tool: string; input: unknown; ctx: ToolCallContext; risk: ToolRisk }): Promise<ApprovalDecision>;
}

// ---------------------------------------------------------------- storage

export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  /** Unique within the plugin and never renamed: it is the key of the applied-migrations table. */
  name: string;
  up(db: SqlRunner): Promise<void>;
}

export interface SqlRunner {
  readonly dialect: Dialect;
  /** `?` placeholders on both dialects (rewritten to `$n` for PostgreSQL). Always answers rows;
   *  use `RETURNING` to learn what an INSERT, UPDATE or DELETE changed (SQLite 3.35+ and PostgreSQL). */
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Name of a table in this plugin's namespace: `table('jobs')` → `jobs_jobs`. */
  table(name: string): string;
}

/** A plugin's namespace: `?` queries, its table names, and transactions (helpers: `sdk/storage.ts`). */
export interface PluginDatabase extends SqlRunner {
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
}

export interface StorageService {
  /**
   * Opens this plugin's namespace: runs its pending migrations (each once, in order, in its own
   * transaction) and returns a handle that is closed when the plugin generation is disposed.
   */
  open(options?: { migrations?: Migration[] }): Promise<PluginDatabase>;
}

// ---------------------------------------------------------------- auth

export interface AuthService {
  /** The user a bearer token (API token or session) belongs to, or undefined. */
  verifyToken(token: string): Promise<User | undefined>;
  getUser(id: string): Promise<User | undefined>;
  /** Create an API token for a user (e.g. the per-run token of a CLI agent). */
  createToken(userId: string, options?: { name?: string; expiresInMs?: number }): Promise<{ id: string; token: string }>;
  revokeToken(id: string): Promise<void>;
  /**
   * Signs in someone an external identity provider vouched for (OpenID Connect): finds the user
   * by e-mail or, when `createRole` is given, creates it on first sign-in; opens a session. The
   * answer carries the `Set-Cookie` value for the session cookie (Secure when `req` came over TLS).
   */
  signInExternal(identity: { email: string; name?: string }, options: { createRole?: Role; req: IncomingMessage }): Promise<{ user: User; created: boolean; token: string; expiresAt: string; setCookie: string }>;
}

// ---------------------------------------------------------------- validation

export interface SchemaProblem { field: string; message: string }
export type SchemaCheckResult = { ok: true } | { ok: false; message: string; details: SchemaProblem[] };

/**
 * The kernel's one JSON Schema validator (Ajv with formats; defaults applied; draft-07, or
 * 2020-12 when `$schema` says so) — the one that checks routes and tool inputs. Use it for what
 * you validate yourself instead of an Ajv of your own.
 */
export interface ValidatorService {
  /**
   * Compiles `schema` (once per distinct schema text) and answers a check of data against it; the
   * problems name fields under `where` (`body/request`), as the kernel's 400s do. Throws
   * `PLINTH_ERR_SCHEMA` when `schema` is not valid JSON Schema. `transient: true` for a schema a
   * user sent (a job's result_schema): it is compiled without being kept, so none accumulate.
   */
  compile(schema: JsonSchema, options?: { where?: string; transient?: boolean }): (data: unknown) => SchemaCheckResult;
}

// ---------------------------------------------------------------- time

export interface Clock {
  now(): number;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): Disposer;
  setInterval(fn: () => void, ms: number): Disposer;
}

// ---------------------------------------------------------------- the plugin

export interface KernelInfo {
  version: string;
  dataDir: string;
  /** `http://host:port` once listening. */
  baseUrl(): string;
  dialect: Dialect;
}

export interface PluginContext<C = Record<string, unknown>> {
  pluginId: string;
  generation: number;
  /** Folder of the plugin on disk (manifest, shipped files). */
  pluginDir: string;
  /** A writable folder for this plugin: `$PLINTH_DATA_DIR/plugins/<id>`. */
  dataDir: string;
  log: Logger;
  /** Validated against the manifest's configSchema, defaults applied. */
  config: C;
  /** Only the secrets the manifest names under permissions.secrets. */
  secrets: Record<string, string | undefined>;
  http: HttpRouter;
  ws: WsRegistry;
  events: EventBus;
  tools: ToolRegistry;
  storage: StorageService;
  auth: AuthService;
  clock: Clock;
  timers: Timers;
  validator: ValidatorService;
  kernel: KernelInfo;
  /** Registered disposers run in reverse order when this generation is disposed. */
  onDispose(fn: Disposer): void;
  /**
   * Offers a service that this plugin lists in `provides`, typed by its ref; only during setup.
   * Other plugins get it once this generation serves.
   */
  provide<T>(ref: ServiceRef<T>, impl: NoInfer<T>): void;
}
