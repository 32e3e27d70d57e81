import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { ValidateFunction } from 'ajv';
import { kernelErrors, SCOPE_NAME, type AuthLevel, type RouteHandler, type RouteOptions, type User } from '../../sdk';
import { lazyValidator, validationError } from '../validation';
import type { AuthStore } from '../auth/auth-store';
import { authenticate } from './request-auth';
import { checkJsonDepth, isJsonType, parseJson, readBody } from './body';
import { KoaRouteRequest, writeResult } from './route-request';
import { NodeSseStream } from './sse';
import type { PerUserCap } from './user-caps';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const AUTH_LEVELS: AuthLevel[] = ['public', 'user', 'admin', 'webhook'];

export interface RouteSpec {
  method: Method;
  path: string;
  options: RouteOptions;
  handler: RouteHandler;
}

interface Validators { params?: ValidateFunction; query?: ValidateFunction; body?: ValidateFunction }

export interface RouteEnv {
  auth: AuthStore;
  bodyLimit: number;
  onSseOpen(stream: NodeSseStream): void;
  onSseClose(stream: NodeSseStream): void;
  /** Open SSE streams per user. */
  ssePerUser?: PerUserCap;
}

/**
 * The routes of one owner (the kernel, or one generation of a plugin), compiled into a Koa
 * router. It counts requests in flight so the host can let them finish before disposing it.
 */
export class RouteGroup {
  readonly routes: RouteSpec[] = [];
  private middleware: ((ctx: Context, next: Next) => Promise<unknown>) | undefined;
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly streams = new Set<NodeSseStream>();
  private readonly sseHooks: Pick<RouteEnv, 'onSseOpen' | 'onSseClose' | 'ssePerUser'>;

  constructor(readonly owner: string, readonly generation: number, private readonly env: RouteEnv) {
    this.sseHooks = {
      onSseOpen: st => { this.streams.add(st); env.onSseOpen(st); },
      onSseClose: st => { this.streams.delete(st); env.onSseClose(st); },
      ssePerUser: env.ssePerUser,
    };
  }

  /** Ends the SSE streams still open on this group (a retired generation): clients resume with Last-Event-ID. */
  closeStreams(): void {
    for (const st of [...this.streams]) st.close();
  }

  add(spec: RouteSpec): () => void {
    if (!spec.options || !AUTH_LEVELS.includes(spec.options.auth)) {
      throw kernelErrors.error('PLINTH_ERR_ROUTE_AUTH', `route ${spec.method} ${spec.path} of ${this.owner} must declare auth: one of ${AUTH_LEVELS.join(', ')}`);
    }
    if (spec.options.scope !== undefined && !(typeof spec.options.scope === 'string' && SCOPE_NAME.test(spec.options.scope))) {
      throw kernelErrors.error('PLINTH_ERR_ROUTE_AUTH', `route ${spec.method} ${spec.path} of ${this.owner}: scope must be a name matching ${SCOPE_NAME}`);
    }
    if (this.routes.some(r => r.method === spec.method && r.path === spec.path)) {
      throw kernelErrors.error('PLINTH_ERR_ROUTE_DUPLICATE', `route ${spec.method} ${spec.path} is registered twice by ${this.owner}`);
    }
    this.routes.push(spec);
    this.middleware = undefined;
    return () => {
      const i = this.routes.indexOf(spec);
      if (i >= 0) this.routes.splice(i, 1);
      this.middleware = undefined;
    };
  }

  private build(): (ctx: Context, next: Next) => Promise<unknown> {
    if (this.middleware) return this.middleware;
    const router = new Router();
    // Method → path → handler: found without building a key string per request.
    const exact = new Map<string, Map<string, (ctx: Context) => Promise<void>>>();
    // Static segments before parameters, so `/stream` is not taken by `/:id` whatever the order of registration.
    for (const spec of [...this.routes].sort(bySpecificity)) {
      const v: Validators = {
        params: spec.options.params ? lazyValidator(spec.options.params, { coerce: true }) : undefined,
        query: spec.options.query ? lazyValidator(spec.options.query, { coerce: true }) : undefined,
        body: spec.options.body ? lazyValidator(spec.options.body) : undefined,
      };
      const run = (ctx: Context) => this.run(ctx, spec, v);
      router.register(spec.path, [spec.method], run);
      if (!spec.path.includes(':') && !spec.path.includes('*')) {
        if (!exact.has(spec.method)) exact.set(spec.method, new Map());
        exact.get(spec.method)!.set(spec.path, run);
      }
    }
    const patterns = router.routes() as unknown as (ctx: Context, next: Next) => Promise<unknown>;
    // Paths without parameters are found in a Map; @koa/router matches the patterns.
    this.middleware = (ctx, next) => {
      const hit = exact.get(ctx.method)?.get(ctx.path);
      if (hit) {
        (ctx as any).params = {};
        return hit(ctx);
      }
      return patterns(ctx, next);
    };
    return this.middleware;
  }

  dispatch(ctx: Context, next: Next): Promise<unknown> {
    return this.build()(ctx, next);
  }

  /** Resolves once no request (or SSE stream) is running on this group, or after the bound. */
  drain(timeoutMs: number): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise(resolve => {
      const t = setTimeout(resolve, timeoutMs);
      t.unref();
      this.idleWaiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  get inFlight(): number { return this.inflight; }

  private ended(): void {
    if (--this.inflight === 0 && this.idleWaiters.length) for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * One request, counted in flight from start to end in one async function: a `then` or `finally`
   * chained on it for the count cost promises and microtask turns on every request.
   */
  private async run(ctx: Context, spec: RouteSpec, v: Validators): Promise<void> {
    this.inflight++;
    // The route's template, for metrics and traces (a bounded label, unlike the path).
    ctx.state.route = spec.path;
    let req: KoaRouteRequest | undefined;
    try {
      const { options } = spec;
      let user: User | undefined;
      if (options.auth === 'user' || options.auth === 'admin') {
        const found = authenticate(ctx, options.auth, this.env.auth, options.scope);
        user = found instanceof Promise ? await found : found;
      }
      const params = { ...(ctx as any).params };
      if (v.params && !v.params(params)) throw validationError('params', v.params.errors);
      const query: Record<string, unknown> = ctx.querystring ? { ...ctx.query } : {};
      if (v.query && !v.query(query)) throw validationError('query', v.query.errors);
      let { rawBody, body } = ctx.method === 'GET' || ctx.method === 'HEAD' ? NO_BODY : await this.parseBody(ctx, options);
      if (v.body) {
        if (body === undefined) body = {};
        if (!v.body(body)) throw validationError('body', v.body.errors);
      }

      req = new KoaRouteRequest(ctx, params, query, body, rawBody, user, this.sseHooks);
      const returned = spec.handler(req);
      // A handler that answers at once is not awaited: an await costs a turn of the microtask queue.
      const result = isThenable(returned) ? await returned : returned;
      if (req.stream) {
        await req.stream.done;
        return;
      }
      writeResult(ctx, result);
    } finally {
      req?.release();
      this.ended();
    }
  }

  /** The request's body: raw, and parsed when it is JSON (unless the route takes it raw). */
  private async parseBody(ctx: Context, options: RouteOptions): Promise<{ rawBody?: Buffer; body?: unknown }> {
    const rawBody = await readBody(ctx, options.bodyLimit ?? this.env.bodyLimit);
    if (rawBody && rawBody.length > 0 && !options.rawBody) {
      if (!isJsonType(ctx.get('content-type'))) {
        throw kernelErrors.error('PLINTH_ERR_CONTENT_TYPE', `expected content-type application/json, got "${ctx.get('content-type') || 'none'}"`);
      }
      return { rawBody, body: parseJson(rawBody) };
    }
    if (rawBody && options.auth === 'webhook' && isJsonType(ctx.get('content-type'))) return { rawBody, body: parseJson(rawBody) };
    // A raw-body route that parses JSON itself (MCP) gets the same depth limit as any other.
    if (rawBody && isJsonType(ctx.get('content-type'))) checkJsonDepth(rawBody);
    return { rawBody };
  }
}

const NO_BODY: { rawBody?: Buffer; body?: unknown } = {};

/** Literal segments before parameters: `/jobs/clear` is tried before `/jobs/:id`. */
function bySpecificity(a: RouteSpec, b: RouteSpec): number {
  const sa = a.path.split('/');
  const sb = b.path.split('/');
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    const pa = sa[i].startsWith(':') ? 1 : 0;
    const pb = sb[i].startsWith(':') ? 1 : 0;
    if (pa !== pb) return pa - pb;
  }
  return 0;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as PromiseLike<unknown> | undefined)?.then === 'function';
}
