import getRawBody from 'raw-body';
import type { Context } from 'koa';
import { kernelErrors, PlinthError } from '../../sdk';
import { jsonTooDeep, jsonTooDeepError } from './json-depth';

export async function readBody(ctx: Context, limit: number): Promise<Buffer | undefined> {
  const length = ctx.request.length;
  const chunked = !!ctx.get('transfer-encoding');
  if (!length && !chunked) return undefined;
  if (length && length > limit) throw tooLarge(limit);
  try {
    return await getRawBody(ctx.req, { limit, length: length || undefined });
  } catch (err: any) {
    if (err.type === 'entity.too.large') throw tooLarge(limit);
    if (err.type === 'request.aborted') throw kernelErrors.error('PLINTH_ERR_ABORTED', 'the client aborted the request body');
    throw kernelErrors.error('PLINTH_ERR_BODY', `could not read the request body: ${err.message}`, { cause: err });
  }
}

function tooLarge(limit: number): PlinthError {
  return kernelErrors.error('PLINTH_ERR_TOO_LARGE', `request body is larger than the limit of ${limit} bytes`);
}

export function isJsonType(contentType: string | undefined): boolean {
  return !!contentType && /^application\/([\w.+-]+\+)?json\b/i.test(contentType);
}

/** Refuses JSON nested deeper than the kernel's limit before anything parses or walks it. */
export function checkJsonDepth(raw: Buffer): void {
  if (jsonTooDeep(raw)) throw jsonTooDeepError('the request body');
}

export function parseJson(raw: Buffer): unknown {
  checkJsonDepth(raw);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err: any) {
    throw kernelErrors.error('PLINTH_ERR_MALFORMED_JSON', `request body is not valid JSON: ${err.message}`, { cause: err });
  }
}
