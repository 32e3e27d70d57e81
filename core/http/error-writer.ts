import type { Context } from 'koa';
import { PlinthError, isPlinthError, type Logger } from '../../sdk';

/** Every failure becomes the one JSON error body; a stack trace never reaches the client. */
export function writeError(ctx: Context, err: any, log: Logger): void {
  let e: PlinthError;
  if (isPlinthError(err)) e = err;
  else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) e = new PlinthError(err.status, 'PLINTH_ERR_HTTP', err.message);
  else {
    log.error('request failed', { method: ctx.method, path: ctx.path, err });
    e = new PlinthError(500, 'PLINTH_ERR_INTERNAL', 'internal error; the server log has the details');
  }
  if (ctx.headerSent || !ctx.writable || ctx.respond === false) {
    if (!ctx.res.writableEnded) ctx.res.end();
    return;
  }
  ctx.status = e.status;
  for (const [k, v] of Object.entries(e.headers ?? {})) ctx.set(k, v);
  ctx.body = e.toJSON();
}
