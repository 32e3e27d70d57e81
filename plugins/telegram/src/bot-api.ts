import { RateLimitedError } from 'plinth/sdk';

/** Error answered by the Bot API (`{ ok: false, error_code, description }`). */
export class BotApiError extends Error {
  constructor(readonly method: string, readonly status: number, readonly description: string) {
    super(`telegram ${method}: ${status} ${description}`);
    this.name = 'BotApiError';
  }
}

/** The few Bot API methods Plinth calls; every answer is `{ ok, result }` or `{ ok: false, … }`. */
export class BotApiClient {
  constructor(private readonly baseUrl: string, private readonly token: string, private readonly timeoutMs: number) {}

  async call<T = any>(method: string, params: Record<string, unknown>): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl.replace(/\/$/, '')}/bot${this.token}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err: any) {
      // Never let the token (part of the URL) reach logs or traces through a fetch error.
      throw new Error(`telegram ${method}: ${err?.name === 'TimeoutError' ? 'timed out' : 'network error'} (${err?.cause?.code ?? err?.name ?? 'unknown'})`);
    }
    let body: any;
    try { body = await res.json(); } catch { body = undefined; }
    if (res.ok && body?.ok === true) return body.result as T;
    const status = Number(body?.error_code ?? res.status);
    if (status === 429) {
      // https://core.telegram.org/bots/api#responseparameters: retry_after is in seconds.
      const seconds = Number(body?.parameters?.retry_after ?? res.headers.get('retry-after') ?? 1);
      throw new RateLimitedError(Math.max(0, seconds) * 1000, `telegram ${method}: 429 ${body?.description ?? 'Too Many Requests'}`);
    }
    throw new BotApiError(method, status, String(body?.description ?? res.statusText ?? 'error'));
  }
}
