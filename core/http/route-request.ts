import type { Context } from 'koa';
import { isReply, HANDLED, type RouteRequest, type SseStream, type User } from '../../sdk';
import { NodeSseStream } from './sse';
import type { RouteEnv } from './routes';

/**
 * What a handler receives. A class rather than an object literal with closures: it is built on
 * every request, and the abort signal and SSE stream are made only when a handler asks.
 */
export class KoaRouteRequest implements RouteRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  stream: NodeSseStream | undefined;
  private controller: AbortController | undefined;
  private onClose: (() => void) | undefined;

  constructor(
    private readonly ctx: Context,
    readonly params: Record<string, string>,
    readonly query: Record<string, unknown>,
    readonly body: unknown,
    readonly rawBody: Buffer | undefined,
    readonly user: User | undefined,
    private readonly env: Pick<RouteEnv, 'onSseOpen' | 'onSseClose' | 'ssePerUser'>,
  ) {
    this.method = ctx.method;
    this.path = ctx.path;
    this.headers = ctx.headers;
  }

  get ip(): string { return this.ctx.ip; }
  get node() { return { req: this.ctx.req, res: this.ctx.res }; }

  get signal(): AbortSignal {
    if (!this.controller) {
      const c = (this.controller = new AbortController());
      const res = this.ctx.res;
      this.onClose = () => { if (!res.writableFinished) c.abort(); };
      res.once('close', this.onClose);
    }
    return this.controller.signal;
  }

  sse(): SseStream {
    if (this.stream) return this.stream;
    const ctx = this.ctx;
    // Taken before anything is written, so the 429 is an ordinary JSON error.
    const release = this.user && this.env.ssePerUser ? this.env.ssePerUser.acquire(this.user.id) : undefined;
    ctx.respond = false;
    const lastId = ctx.get('last-event-id') || (typeof ctx.query.last_event_id === 'string' ? ctx.query.last_event_id : undefined);
    const stream: NodeSseStream = new NodeSseStream(ctx.res, lastId || undefined, () => { release?.(); this.env.onSseClose(stream); });
    this.stream = stream;
    this.env.onSseOpen(stream);
    return stream;
  }

  release(): void {
    if (this.onClose) this.ctx.res.off('close', this.onClose);
  }
}

/** A handler's result as the HTTP answer: a `reply(...)`, a body (200), nothing (204) or HANDLED. */
export function writeResult(ctx: Context, result: unknown): void {
  if (result === HANDLED) {
    ctx.respond = false;
    return;
  }
  if (isReply(result)) {
    ctx.status = result.status;
    for (const [k, val] of Object.entries(result.headers ?? {})) ctx.set(k, val);
    if (result.type) ctx.type = result.type;
    if (result.body !== undefined) ctx.body = result.body as any;
    else if (result.status !== 204) ctx.body = '';
    return;
  }
  if (result === undefined) {
    ctx.status = 204;
    return;
  }
  ctx.status = 200;
  ctx.body = result as any;
}
