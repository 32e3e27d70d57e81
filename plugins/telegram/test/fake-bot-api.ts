import type { ServerResponse } from 'node:http';
import { failureControls, listenLocal, readJsonBody, type FakeApi } from 'plinth/testing';

export { sleep, waitFor, type FakeApi } from 'plinth/testing';

/**
 * A Bot API on 127.0.0.1 speaking Telegram's wire format: POST /bot<token>/<method> with JSON,
 * answers `{ ok: true, result }`, or `{ ok: false, error_code, description, parameters }`.
 */
export async function startFakeBotApi(token: string): Promise<FakeApi> {
  const c = failureControls();
  const delivered: FakeApi['delivered'] = [];
  const received: FakeApi['received'] = [];
  const hanging = new Set<ServerResponse>();
  let nextId = 5000;
  const send = (res: ServerResponse, status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
  const { server, url } = await listenLocal(async (req, res) => {
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
    const params = await readJsonBody(req).catch(() => undefined);
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
