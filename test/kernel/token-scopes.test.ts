import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { DEVICE_SCOPE, definePlugin } from 'plinth/sdk';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

/**
 * Token scopes: a token made with scopes is let in only where a route, a WebSocket endpoint or a
 * plugin checking tokens itself names one of them; an unscoped token keeps its user's full rights.
 */
const scoped = {
  manifest: { id: 'scoped', contributes: { ws: ['/api/scoped/ws', '/api/scoped/ws-full'] } },
  plugin: definePlugin({ setup({ http, ws, auth }) {
    http.get('/open', { auth: 'user', scope: DEVICE_SCOPE }, req => ({ user: req.user!.id }));
    http.post('/open', { auth: 'user', scope: DEVICE_SCOPE, body: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } }, req => ({ n: req.body.n }));
    http.get('/full', { auth: 'user' }, req => ({ user: req.user!.id }));
    http.get('/admin-open', { auth: 'admin', scope: DEVICE_SCOPE }, req => ({ user: req.user!.id }));
    // A plugin that checks the bearer itself (as the OpenAI-compatible API does) names the scope it admits.
    http.get('/own-check', { auth: 'public' }, async req => {
      const token = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
      const user = await auth.verifyToken(token, { scope: DEVICE_SCOPE });
      return { user: user?.id ?? null };
    });
    ws.handle('/api/scoped/ws', { auth: 'user', scope: DEVICE_SCOPE }, socket => socket.send('hello'));
    ws.handle('/api/scoped/ws-full', { auth: 'user' }, socket => socket.send('hello'));
  } }),
};

/** Opens a WebSocket with a bearer token: 'open' after the first message, or the refusal's HTTP status. */
function wsOutcome(url: string, token: string): Promise<string | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const t = setTimeout(() => { ws.terminate(); reject(new Error(`no answer from ${url} within 5s`)); }, 5000);
    ws.once('message', () => { clearTimeout(t); ws.close(); resolve('open'); });
    ws.once('unexpected-response', (_req, res) => { clearTimeout(t); res.resume(); resolve(res.statusCode ?? 0); });
    ws.once('error', err => { clearTimeout(t); reject(err); });
  });
}

const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

for (const database of dialects) {
  describe(`token scopes (${database})`, () => {
    let k: TestKernel;
    let alice: { user: { id: string }; token: string };
    let device: string;
    let reports: string;
    before(async () => {
      k = await createTestKernel({ database, plugins: [{ path: join(__dirname, '..', '..', 'plugins', 'accounts') }, scoped, { path: join(__dirname, '..', '..', 'plugins', 'observability') }] });
      alice = await k.createUser();
      const made = await k.request('POST', `/api/users/${alice.user.id}/tokens`, { token: alice.token, body: { name: 'phone', scopes: [DEVICE_SCOPE] } });
      assert.equal(made.status, 201, made.text);
      device = made.body.token;
      reports = (await k.users.createToken(alice.user.id, { scopes: ['reports'] })).token;
    });
    after(() => k.stop());

    test('a scoped token passes the routes that declare its scope, as the user', async () => {
      for (const token of [device, alice.token]) {
        const r = await k.request('GET', '/api/scoped/open', { token });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.user, alice.user.id);
        assert.deepEqual((await k.request('POST', '/api/scoped/open', { token, body: { n: 3 } })).body, { n: 3 });
      }
      const bad = await k.request('POST', '/api/scoped/open', { token: device, body: { n: 'x' } });
      assert.equal(bad.status, 400, 'the route validates a scoped token\'s body like any other');
    });

    test('everywhere else it is refused with 403 naming the scope it lacks, where the user\'s full token works', async () => {
      const full = await k.request('GET', '/api/scoped/full', { token: device });
      assert.equal(full.status, 403, full.text);
      assert.equal(full.body.error.code, 'PLINTH_ERR_TOKEN_SCOPE');
      assert.deepEqual(full.body.error.details, { required: null, tokenScopes: [DEVICE_SCOPE] });
      assert.match(full.body.error.message, /GET \/api\/scoped\/full needs a token with its user's full rights.*limited to: device/);
      assert.equal((await k.request('GET', '/api/scoped/full', { token: alice.token })).status, 200);

      const other = await k.request('GET', '/api/scoped/open', { token: reports });
      assert.equal(other.status, 403);
      assert.deepEqual(other.body.error.details, { required: DEVICE_SCOPE, tokenScopes: ['reports'] });
      assert.match(other.body.error.message, /needs a token with the scope "device"/);

      // The kernel's own routes: tokens, users, tickets (a ticket would carry full rights), sign-out.
      for (const [method, path, body] of [['GET', '/api/tokens'], ['POST', `/api/users/${alice.user.id}/tokens`, {}], ['POST', '/api/ws/ticket'], ['POST', '/auth/logout'], ['GET', '/api/plugins']] as const) {
        const r = await k.request(method, path, { token: device, body });
        assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
        assert.equal(r.body.error.code, 'PLINTH_ERR_TOKEN_SCOPE', `${method} ${path}`);
      }
      for (const path of ['/api/tokens', '/api/plugins']) assert.equal((await k.request('GET', path, { token: alice.token })).status, 200, path);
      const tokens = (await k.request('GET', '/api/tokens', { token: alice.token })).body.items;
      assert.equal(tokens.length, 3, 'the refused POST made no token');
      assert.deepEqual(tokens.map((t: any) => t.scopes).sort(), [['device'], ['reports'], null].sort());
      assert.equal((await k.request('GET', '/api/scoped/open', { token: device })).status, 200, 'the refusals revoked nothing (not even /auth/logout)');
    });

    test('the role still applies: a scoped token of a user is no admin; an admin\'s scoped token passes an admin route that declares the scope', async () => {
      const asUser = await k.request('GET', '/api/scoped/admin-open', { token: device });
      assert.equal(asUser.status, 403);
      assert.equal(asUser.body.error.code, 'PLINTH_ERR_FORBIDDEN');
      const admin = (await k.request('GET', '/auth/me', { token: k.adminToken })).body.user;
      const adminDevice = (await k.users.createToken(admin.id, { scopes: [DEVICE_SCOPE] })).token;
      assert.equal((await k.request('GET', '/api/scoped/admin-open', { token: adminDevice })).status, 200);
      const users = await k.request('GET', '/api/users', { token: adminDevice });
      assert.equal(users.status, 403);
      assert.equal(users.body.error.code, 'PLINTH_ERR_TOKEN_SCOPE');
      assert.equal((await k.request('GET', '/api/users', { token: k.adminToken })).status, 200);
      // /metrics from off this machine (a proxy's X-Forwarded-For) takes an admin's token, not an admin's scoped one.
      const fwd = { 'x-forwarded-for': '203.0.113.9' };
      const metrics = await k.request('GET', '/metrics', { token: adminDevice, headers: fwd });
      assert.equal(metrics.status, 403, metrics.text);
      assert.equal(metrics.body.error.code, 'PLINTH_ERR_TOKEN_SCOPE');
      assert.equal((await k.request('GET', '/metrics', { token: k.adminToken, headers: fwd })).status, 200);
    });

    test('a plugin that checks tokens itself names the scope it admits (verifyToken)', async () => {
      assert.deepEqual((await k.request('GET', '/api/scoped/own-check', { token: device })).body, { user: alice.user.id });
      assert.deepEqual((await k.request('GET', '/api/scoped/own-check', { token: alice.token })).body, { user: alice.user.id });
      const r = await k.request('GET', '/api/scoped/own-check', { token: reports });
      assert.equal(r.status, 403);
      assert.equal(r.body.error.details.required, DEVICE_SCOPE);
      assert.deepEqual((await k.request('GET', '/api/scoped/own-check', { token: 'nope' })).body, { user: null });
    });

    test('WebSockets: a scoped token opens the endpoints that declare its scope, not the others nor /ws', async () => {
      const ws = k.baseUrl.replace(/^http/, 'ws');
      assert.equal(await wsOutcome(`${ws}/api/scoped/ws`, device), 'open');
      assert.equal(await wsOutcome(`${ws}/api/scoped/ws-full`, device), 403);
      assert.equal(await wsOutcome(`${ws}/api/scoped/ws-full`, alice.token), 'open');
      assert.equal(await wsOutcome(`${ws}/api/scoped/ws`, reports), 403);
      assert.equal(await wsOutcome(`${ws}/ws`, device), 403);
    });

    test('scopes are names: bad ones are refused and no token is made', async () => {
      const before = (await k.request('GET', '/api/tokens', { token: alice.token })).body.items.length;
      for (const scopes of [[], ['Has Space'], ['ok', 'ok'], 'device', [7]]) {
        const r = await k.request('POST', `/api/users/${alice.user.id}/tokens`, { token: alice.token, body: { scopes } });
        assert.equal(r.status, 400, `${JSON.stringify(scopes)}: ${r.text}`);
        assert.match(r.body.error.message + JSON.stringify(r.body.error.details), /scopes/);
      }
      await assert.rejects(k.users.createToken(alice.user.id, { scopes: [] }), /non-empty list/);
      assert.equal((await k.request('GET', '/api/tokens', { token: alice.token })).body.items.length, before);
    });
  });
}

describe('token scopes at registration', () => {
  test('a route or WebSocket declaring a malformed scope is refused at registration', async () => {
    const k2 = await createTestKernel({ plugins: [
      { manifest: { id: 'badroute' }, plugin: definePlugin({ setup({ http }) { http.get('/x', { auth: 'user', scope: 'Not A Scope' }, () => ({})); } }) },
      { manifest: { id: 'badws', contributes: { ws: ['/api/badws'] } }, plugin: definePlugin({ setup({ ws }) { ws.handle('/api/badws', { auth: 'user', scope: '' }, () => undefined); } }) },
    ] });
    try {
      for (const id of ['badroute', 'badws']) {
        const p = (await k2.request('GET', `/api/plugins/${id}`, { token: k2.adminToken })).body;
        assert.equal(p.status, 'error', JSON.stringify(p));
        assert.match(JSON.stringify(p), /scope must be a name/);
      }
    } finally {
      await k2.stop();
    }
  });
});
