import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { RateLimitedError } from 'plinth/contracts/channels';

/** Kept-alive connections to the Bot API, shared by every call of this plugin generation. */
const pools = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

interface Answer { status: number; statusText: string; retryAfter: string | undefined; text: string }

/**
 * One POST over node:http(s): a reply costs about half the CPU of fetch (bench/channels-ingest),
 * which matters when replies are sent while webhooks keep arriving.
 */
function post(url: string, body: string, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const req = (secure ? httpsRequest : httpRequest)(target, {
      method: 'POST', agent: secure ? pools.https : pools.http,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    }, res => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', c => (text += c));
      res.once('end', () => { clearTimeout(timer); resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', retryAfter: res.headers['retry-after'] as string | undefined, text }); });
      res.once('error', err => { clearTimeout(timer); reject(err); });
    });
    // Bounds one socket's request and is cleared with it; a plain Node timer, like the socket it guards.
    const timer = setTimeout(() => { const e = new Error('timed out'); e.name = 'TimeoutError'; req.destroy(e); }, timeoutMs);
    req.once('error', err => { clearTimeout(timer); reject(err); });
    req.end(body);
  });
}


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
    let res: Answer;
    try {
      res = await post(`${this.baseUrl.replace(/\/$/, '')}/bot${this.token}/${method}`, JSON.stringify(params), this.timeoutMs);
    } catch (err: any) {
      // Never let the token (part of the URL) reach logs or traces through a network error: this is
      // the one wrap that drops its `cause` on purpose, keeping only the error's code.
      throw new Error(`telegram ${method}: ${err?.name === 'TimeoutError' ? 'timed out' : 'network error'} (${err?.code ?? err?.name ?? 'unknown'})`);
    }
    let body: any;
    try { body = JSON.parse(res.text); } catch { body = undefined; }
    const ok = res.status >= 200 && res.status <= 299;
    if (ok && body?.ok === true) return body.result as T;
    const status = Number(body?.error_code ?? res.status);
    if (status === 429) {
      // https://core.telegram.org/bots/api#responseparameters: retry_after is in seconds.
      const seconds = Number(body?.parameters?.retry_after ?? res.retryAfter ?? 1);
      throw new RateLimitedError(Math.max(0, seconds) * 1000, `telegram ${method}: 429 ${body?.description ?? 'Too Many Requests'}`);
    }
    throw new BotApiError(method, status, String(body?.description ?? res.statusText ?? 'error'));
  }
}
