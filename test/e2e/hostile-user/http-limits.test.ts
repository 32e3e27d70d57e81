/**
 * Issue 12 §1 and §4 over HTTP: deeply nested bodies are refused before any handler sees them
 * (on plugin routes and on the protocol endpoints that read their own body), per-user caps on
 * SSE streams and WebSockets, the session cookie's Secure flag, WebSocket tickets that expire,
 * Last-Event-ID on the session replay, and `/auth/me` without a session.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { WsTickets } from '../../../core/http/websocket';
import { tempDir, writePlugin } from '../../helpers/plugins';
import { ROOT, dialects } from '../helpers';
import { connectWs, deeplyNested } from './ws-client';

const STREAMS = `import { definePlugin } from 'plinth/sdk';
export default definePlugin({ setup({ http }) {
  http.get('/live', { auth: 'user' }, async req => { const s = req.sse(); s.send({ event: 'hello', data: {} }); await s.done; });
  http.post('/echo', { auth: 'user' }, req => ({ got: req.body }));
} });
`;

let clockNow = Date.now();
const clock = { now: () => clockNow };

for (const database of dialects) describe(`hostile user: HTTP limits (${database})`, () => {
  let k: TestKernel;
  let fixtures: string;
  before(async () => {
    fixtures = tempDir('limits-');
    const plugins = ['accounts', 'agents', 'jobs', 'a2a', 'mcp'].map(id => ({ path: join(ROOT, 'plugins', id) }));
    plugins.push({ path: writePlugin(fixtures, { id: 'streams', code: STREAMS }) });
    k = await createTestKernel({ plugins, clock, database });
  });
  after(async () => {
    await k?.stop();
    rmSync(fixtures, { recursive: true, force: true });
  });

  test('a body nested 100,000 deep is a 400 PLINTH_ERR_JSON_TOO_DEEP everywhere (plugin routes, /a2a, /mcp); 60 deep passes the check', async () => {
    const u = await k.createUser();
    const deep = `{"title":"x","id":${deeplyNested(100_000)}}`;
    for (const path of ['/api/jobs', '/a2a', '/mcp', '/api/streams/echo', '/api/sessions']) {
      const res = await k.request('POST', path, { token: u.token, raw: deep, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } });
      assert.equal(res.status, 400, `${path}: ${res.status} ${res.text.slice(0, 200)}`);
      assert.equal(res.body.error.code, 'PLINTH_ERR_JSON_TOO_DEEP', path);
    }
    const ok = await k.request('POST', '/api/streams/echo', { token: u.token, raw: `{"id":${deeplyNested(60)}}`, headers: { 'content-type': 'application/json' } });
    assert.equal(ok.status, 200);
    // Brackets inside strings are text, not nesting.
    const inString = await k.request('POST', '/api/streams/echo', { token: u.token, body: { text: '['.repeat(1000) } });
    assert.equal(inString.status, 200);
    assert.equal((await k.request('GET', '/api/health', { token: null })).status, 200);
  });

  test('SSE streams per user: OK at the cap, 429 JSON at cap + 1, another user unaffected, a slot frees on close', async () => {
    k.kernel.settings.maxSsePerUser = 3;
    try {
      const a = await k.createUser();
      const b = await k.createUser();
      const open: AbortController[] = [];
      const stream = async (token: string) => {
        const ctrl = new AbortController();
        const res = await fetch(`${k.baseUrl}/api/streams/live`, { headers: { authorization: `Bearer ${token}` }, signal: ctrl.signal });
        if (res.status === 200) { open.push(ctrl); return { status: res.status, body: undefined }; }
        return { status: res.status, body: await res.json() as any };
      };
      for (let i = 0; i < 3; i++) assert.equal((await stream(a.token)).status, 200);
      const over = await stream(a.token);
      assert.equal(over.status, 429);
      assert.equal(over.body.error.code, 'PLINTH_ERR_TOO_MANY_CONNECTIONS');
      assert.equal((await stream(b.token)).status, 200);
      open[0].abort();
      await new Promise(r => setTimeout(r, 100));
      assert.equal((await stream(a.token)).status, 200);
      for (const c of open) c.abort();
    } finally {
      k.kernel.settings.maxSsePerUser = 32;
    }
  });

  test('WebSockets per user: OK at the cap, the upgrade over it refused with HTTP 429 JSON, a slot frees on close', async () => {
    k.kernel.settings.maxWsPerUser = 3;
    try {
      const a = await k.createUser();
      const url = k.baseUrl.replace('http', 'ws') + '/ws';
      const auth = { authorization: `Bearer ${a.token}` };
      const sockets = [await connectWs(url, auth), await connectWs(url, auth), await connectWs(url, auth)];
      const refused = await connectWs(url, auth).then(() => undefined, err => err);
      assert.equal(refused?.status, 429, String(refused));
      assert.equal(JSON.parse(refused.body).error.code, 'PLINTH_ERR_TOO_MANY_CONNECTIONS');
      // The agent chat counts against the same cap.
      await assert.rejects(connectWs(k.baseUrl.replace('http', 'ws') + '/api/agent/ws', auth), /429/);
      sockets[0].ws.close();
      await sockets[0].closed;
      await new Promise(r => setTimeout(r, 100));
      const again = await connectWs(url, auth);
      for (const s of [...sockets, again]) s.ws.close();
    } finally {
      k.kernel.settings.maxWsPerUser = 32;
    }
  });

  test('the session cookie is Secure when the request came through a trusted proxy over https, not otherwise', async () => {
    await k.request('POST', '/api/users', { body: { email: `cookie-${database}@example.test`, password: 'long enough' } });
    const login = (headers: Record<string, string> = {}) => k.request('POST', '/auth/login', { token: null, headers, body: { email: `cookie-${database}@example.test`, password: 'long enough' } });
    const plain = await login();
    assert.equal(plain.status, 200);
    assert.doesNotMatch(plain.headers.get('set-cookie')!, /Secure/);
    // Anyone can send the header; it counts only from a proxy named in PLINTH_TRUST_PROXY.
    const spoofed = await login({ 'x-forwarded-proto': 'https' });
    assert.doesNotMatch(spoofed.headers.get('set-cookie')!, /Secure/);
    k.kernel.settings.trustProxy.push('127.0.0.1');
    try {
      const proxied = await login({ 'x-forwarded-proto': 'https' });
      assert.match(proxied.headers.get('set-cookie')!, /; Secure/);
      assert.match(proxied.headers.get('set-cookie')!, /HttpOnly; SameSite=Strict/);
      const proxiedHttp = await login({ 'x-forwarded-proto': 'http' });
      assert.doesNotMatch(proxiedHttp.headers.get('set-cookie')!, /Secure/);
      const logout = await k.request('POST', '/auth/logout', { token: proxied.body.token, headers: { 'x-forwarded-proto': 'https' } });
      assert.match(logout.headers.get('set-cookie')!, /Max-Age=0; Secure/);
    } finally {
      k.kernel.settings.trustProxy.splice(0);
    }
  });

  test('a WebSocket ticket works once within its minute, and not after it expired', async () => {
    const u = await k.createUser();
    const ticket = async () => (await k.request('POST', '/api/ws/ticket', { token: u.token })).body.ticket as string;
    const url = (t: string) => `${k.baseUrl.replace('http', 'ws')}/ws?ticket=${t}`;
    const fresh = await connectWs(url(await ticket()), {});
    fresh.ws.close();
    const stale = await ticket();
    clockNow += 61_000;
    await assert.rejects(connectWs(url(stale), {}), /401/);
    const inTime = await ticket();
    clockNow += 30_000;
    (await connectWs(url(inTime), {})).ws.close();
  });

  test('the ticket map is bounded: at the cap the oldest ticket gives way, expired ones are swept', () => {
    let now = 0;
    const tickets = new WsTickets({ now: () => now }, 5);
    const issued = Array.from({ length: 8 }, (_, i) => tickets.issue(`u${i}`).ticket);
    assert.equal(tickets.size, 5);
    assert.equal(tickets.redeem(issued[0]), undefined, 'the oldest gave way');
    assert.equal(tickets.redeem(issued[7]), 'u7');
    now += 61_000;
    tickets.issue('late');
    assert.equal(tickets.size, 1, 'expired tickets are swept');
  });

  test('GET /api/sessions/:id/replay honours Last-Event-ID: only later frames, and 204 (EventSource stops) when none are left', async () => {
    const u = await k.createUser();
    const session = (await k.request('POST', '/api/sessions', { token: u.token, body: { agent: 'assistant' } })).body;
    for (const text of ['one', 'two']) {
      const r = await k.request('POST', `/api/sessions/${session.id}/messages`, { token: u.token, body: { message: text }, headers: { accept: 'application/json' } });
      assert.equal(r.status, 200, r.text);
    }
    const replay = (lastEventId?: string) => sse(`${k.baseUrl}/api/sessions/${session.id}/replay`, { authorization: `Bearer ${u.token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) });
    const all = await replay();
    assert.equal(all.status, 200);
    const ids = all.ids;
    assert.ok(ids.length >= 4, `frames: ${ids}`);
    const rest = await replay(String(ids[1]));
    assert.equal(rest.status, 200);
    assert.deepEqual(rest.ids, ids.slice(2));
    const none = await replay(String(ids[ids.length - 1]));
    assert.equal(none.status, 204);
    assert.equal(none.body, '');
  });

  test('/auth/me answers { user: null } without a session, the user with one, 401 for a bad bearer token', async () => {
    const anon = await k.request('GET', '/auth/me', { token: null });
    assert.equal(anon.status, 200);
    assert.deepEqual(anon.body, { user: null });
    const u = await k.createUser();
    assert.equal((await k.request('GET', '/auth/me', { token: u.token })).body.user.id, u.user.id);
    assert.deepEqual((await k.request('GET', '/auth/me', { token: null, headers: { cookie: 'plinth_session=expired-or-made-up' } })).body, { user: null });
    assert.equal((await k.request('GET', '/auth/me', { token: 'plt_not_a_token' })).status, 401);
  });
});

function sse(url: string, headers: Record<string, string>): Promise<{ status: number; ids: number[]; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers } }, res => {
      let body = '';
      res.on('data', c => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, ids: [...body.matchAll(/^id: (\d+)$/gm)].map(m => Number(m[1])) }));
    });
    req.on('error', reject);
    req.end();
  });
}
