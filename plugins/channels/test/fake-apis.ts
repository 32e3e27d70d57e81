import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FailureMode = { kind: '500' } | { kind: '429'; retryAfter: number } | { kind: 'hang' };

export interface FakeApi {
  url: string;
  /** Every request that the fake answered with success, in order. */
  delivered: Array<{ method: string; params: any; at: number }>;
  /** Every request received, including failed ones. */
  received: Array<{ method: string; params: any; at: number; status: number }>;
  /** Fail the next n requests (Infinity: until `heal()`). */
  fail(mode: FailureMode, n?: number): void;
  heal(): void;
  close(): Promise<void>;
}

function readJson(req: IncomingMessage): Promise<any> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => { try { resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {}); } catch (e) { reject(e); } });
    req.on('error', reject);
  });
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  server.keepAliveTimeout = 1000;
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function controls() {
  let mode: FailureMode | undefined;
  let left = 0;
  return {
    fail(m: FailureMode, n = Infinity) { mode = m; left = n; },
    heal() { mode = undefined; left = 0; },
    take(): FailureMode | undefined {
      if (!mode || left <= 0) return undefined;
      left--;
      return mode;
    },
  };
}

/**
 * A Bot API on 127.0.0.1 speaking Telegram's wire format: POST /bot<token>/<method> with JSON,
 * answers `{ ok: true, result }`, or `{ ok: false, error_code, description, parameters }`.
 */
export async function startFakeBotApi(token: string): Promise<FakeApi> {
  const c = controls();
  const delivered: FakeApi['delivered'] = [];
  const received: FakeApi['received'] = [];
  const hanging = new Set<ServerResponse>();
  let nextId = 5000;
  const send = (res: ServerResponse, status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
  const { server, url } = await listen(async (req, res) => {
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
    const params = await readJson(req).catch(() => undefined);
    if (!m || m[1] !== token) return send(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    if (params === undefined) return send(res, 400, { ok: false, error_code: 400, description: 'Bad Request: invalid JSON' });
    const method = m[2];
    const failure = c.take();
    const at = Date.now();
    if (failure?.kind === 'hang') { received.push({ method, params, at, status: 0 }); hanging.add(res); return; }
    if (failure?.kind === '500') { received.push({ method, params, at, status: 500 }); return send(res, 500, { ok: false, error_code: 500, description: 'Internal Server Error' }); }
    if (failure?.kind === '429') {
      received.push({ method, params, at, status: 429 });
      return send(res, 429, { ok: false, error_code: 429, description: `Too Many Requests: retry after ${failure.retryAfter}`, parameters: { retry_after: failure.retryAfter } });
    }
    if (method === 'sendMessage') {
      if (typeof params.text !== 'string' || !params.text.length) { received.push({ method, params, at, status: 400 }); return send(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' }); }
      if (params.text.length > 4096) { received.push({ method, params, at, status: 400 }); return send(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message is too long' }); }
      received.push({ method, params, at, status: 200 });
      delivered.push({ method, params, at });
      return send(res, 200, { ok: true, result: { message_id: nextId++, date: Math.floor(at / 1000), chat: { id: Number(params.chat_id), type: 'private' }, text: params.text } });
    }
    received.push({ method, params, at, status: 200 });
    delivered.push({ method, params, at });
    return send(res, 200, { ok: true, result: true });
  });
  return {
    url, delivered, received, fail: c.fail, heal: c.heal,
    close: async () => { for (const r of hanging) r.destroy(); server.closeAllConnections(); await new Promise(r => server.close(r)); },
  };
}

/** A Graph API on 127.0.0.1: POST /{version}/{phone_number_id}/messages with a bearer token. */
export async function startFakeGraphApi(accessToken: string, phoneNumberId: string): Promise<FakeApi> {
  const c = controls();
  const delivered: FakeApi['delivered'] = [];
  const received: FakeApi['received'] = [];
  let nextId = 1;
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => { res.writeHead(status, { 'content-type': 'application/json', ...headers }); res.end(JSON.stringify(body)); };
  const { server, url } = await listen(async (req, res) => {
    const m = /^\/(v\d+\.\d+)\/(\d+)\/messages$/.exec(req.url ?? '');
    const params = await readJson(req).catch(() => undefined);
    const at = Date.now();
    if (req.headers.authorization !== `Bearer ${accessToken}`) return send(res, 401, { error: { message: 'Invalid OAuth access token.', type: 'OAuthException', code: 190 } });
    if (!m || m[2] !== phoneNumberId) return send(res, 400, { error: { message: 'Unsupported post request.', type: 'GraphMethodException', code: 100 } });
    const failure = c.take();
    if (failure?.kind === '500') { received.push({ method: 'messages', params, at, status: 500 }); return send(res, 500, { error: { message: 'An unknown error has occurred.', type: 'OAuthException', code: 1 } }); }
    if (failure?.kind === '429') {
      received.push({ method: 'messages', params, at, status: 429 });
      return send(res, 429, { error: { message: '(#130429) Rate limit hit', type: 'OAuthException', code: 130429 } }, { 'retry-after': String(failure.retryAfter) });
    }
    if (params?.messaging_product !== 'whatsapp' || !params.to) { received.push({ method: 'messages', params, at, status: 400 }); return send(res, 400, { error: { message: 'Invalid parameter', code: 100 } }); }
    const id = `wamid.fake${nextId++}`;
    received.push({ method: 'messages', params, at, status: 200 });
    delivered.push({ method: 'messages', params: { ...params, id }, at });
    return send(res, 200, { messaging_product: 'whatsapp', contacts: [{ input: params.to, wa_id: params.to }], messages: [{ id }] });
  });
  return {
    url, delivered, received, fail: c.fail, heal: c.heal,
    close: async () => { server.closeAllConnections(); await new Promise(r => server.close(r)); },
  };
}

export { waitFor } from 'plinth/testing';

export const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
