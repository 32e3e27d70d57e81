import type { ServiceRef } from './refs';
import type { HttpRouter, WsRegistry } from './http-types';
import type { ToolRegistry } from './tool-types';

export type * from './http-types';
export type * from './tool-types';

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
  /**
   * PostgreSQL only (absent on SQLite): `LISTEN` on `table(channel)` on a connection of its own,
   * reopened if lost, closed with the plugin generation. Notify with a query:
   * `SELECT pg_notify(?, ?)` with `[db.table(channel), payload]` (payloads under 8000 bytes).
   */
  listen?(channel: string, onMessage: (payload: string) => void): Promise<Disposer>;
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
  /**
   * The user a bearer token (API token or session) belongs to, or undefined. A token limited to
   * scopes that do not include `scope` (none given: any scoped token) is refused with 403
   * PLINTH_ERR_TOKEN_SCOPE, so a plugin that checks tokens itself names the scope it admits.
   */
  verifyToken(token: string, options?: { scope?: string }): Promise<User | undefined>;
  getUser(id: string): Promise<User | undefined>;
  /**
   * Create an API token for a user (e.g. the per-run token of a CLI agent). With `scopes` it is
   * let in only where one of them is declared (a paired device's: `[DEVICE_SCOPE]`); without, it
   * has the user's full rights.
   */
  createToken(userId: string, options?: { name?: string; expiresInMs?: number; scopes?: string[] }): Promise<{ id: string; token: string }>;
  revokeToken(id: string): Promise<void>;
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
  /** This kernel process among several on one database (`node_…`; answered in `X-Plinth-Node`). */
  nodeId: string;
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
