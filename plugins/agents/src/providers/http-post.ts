import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** Keep-alive pools shared by every call, as fetch's global dispatcher would be. */
const pools = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

export interface PostedResponse {
  status: number;
  statusText: string;
  contentType: string;
  /** The body as it arrives; async-iterable Buffers. */
  body: IncomingMessage;
  text(): Promise<string>;
}

/**
 * A POST over node:http(s) rather than fetch, for streamed model answers: without WHATWG streams
 * between the socket and the SSE parser, reading a 100-chunk stream costs about half the CPU
 * (bench/agents-proxy), which is what a proxy relaying many streams at once spends most on.
 * The signal aborts the request and its body (aborts and timeouts surface as errors).
 */
export function postJson(url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<PostedResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    if (signal.aborted) return reject(abortError(signal));
    const req = (secure ? httpsRequest : httpRequest)(target, {
      method: 'POST', agent: secure ? pools.https : pools.http,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    }, res => {
      // Until the body has been read to its end, an abort also ends the body (the stream's reader sees an error).
      res.once('close', () => signal.removeEventListener('abort', onAbort));
      resolve({
        status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', contentType: String(res.headers['content-type'] ?? ''), body: res,
        text: () => readText(res),
      });
    });
    const onAbort = () => req.destroy(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    req.once('error', err => { signal.removeEventListener('abort', onAbort); reject(err); });
    // Each SSE chunk is relayed as soon as it is parsed: no Nagle delay on the request side either.
    req.setNoDelay(true);
    req.end(body);
  });
}

async function readText(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk;
  return text;
}

function abortError(signal: AbortSignal): Error {
  const err = new Error('the request was aborted', { cause: signal.reason });
  err.name = 'AbortError';
  return err;
}
