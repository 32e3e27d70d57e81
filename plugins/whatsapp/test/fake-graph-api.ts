import type { ServerResponse } from 'node:http';
import { failureControls, listenLocal, readJsonBody, type FakeApi } from 'plinth/testing';

export { sleep, waitFor, type FakeApi } from 'plinth/testing';

/** A Graph API on 127.0.0.1: POST /{version}/{phone_number_id}/messages with a bearer token. */
export async function startFakeGraphApi(accessToken: string, phoneNumberId: string): Promise<FakeApi> {
  const c = failureControls();
  const delivered: FakeApi['delivered'] = [];
  const received: FakeApi['received'] = [];
  let nextId = 1;
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => { res.writeHead(status, { 'content-type': 'application/json', ...headers }); res.end(JSON.stringify(body)); };
  const { server, url } = await listenLocal(async (req, res) => {
    const m = /^\/(v\d+\.\d+)\/(\d+)\/messages$/.exec(req.url ?? '');
    const params = await readJsonBody(req).catch(() => undefined);
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
