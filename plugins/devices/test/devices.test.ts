import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createTestKernel, type TestKernel } from 'plinth/testing';

const DEVICES = join(__dirname, '..');
const AGENTS = join(__dirname, '..', '..', 'agents');
const OPENAI_API = join(__dirname, '..', '..', 'openai-api');
const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

for (const database of dialects) {
  describe(`devices (${database})`, () => {
    let k: TestKernel;
    let alice: { token: string; user: { id: string } };
    let bob: { token: string; user: { id: string } };
    // The kernel's clock, moved by hand: code expiry without sleeping (and without flaking under load).
    let now = Date.now();
    before(async () => {
      k = await createTestKernel({ database, clock: { now: () => now }, plugins: [{ path: join(AGENTS, '..', 'accounts') }, { path: AGENTS }, { path: OPENAI_API }, { path: DEVICES, config: { codeTtlMs: 60_000, maxAttempts: 3 } }] });
      alice = await k.createUser();
      bob = await k.createUser();
    });
    after(() => k.stop());

    const pair = async (name = 'phone', token = alice.token) => {
      const r = await k.request('POST', '/api/runtime/devices/pair', { token, body: { name } });
      assert.equal(r.status, 201, r.text);
      return r.body as { id: string; code: string; expiresAt: string };
    };
    const verify = (id: string, code: string) => k.request('POST', `/api/runtime/devices/${id}/verify`, { token: null, body: { code } });
    /** The HTTP status of a WebSocket upgrade with a bearer token (101: open). */
    const upgrade = (path: string, token: string) => new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(k.baseUrl.replace(/^http/, 'ws') + path, { headers: { authorization: `Bearer ${token}` } });
      const t = setTimeout(() => { ws.terminate(); reject(new Error(`no answer to the upgrade of ${path} within 5s`)); }, 5000);
      ws.once('open', () => { clearTimeout(t); ws.close(); resolve(101); });
      ws.once('unexpected-response', (_req, res) => { clearTimeout(t); res.resume(); resolve(res.statusCode ?? 0); });
      ws.once('error', err => { clearTimeout(t); reject(err); });
    });
    const wrong = (code: string) => (code === '000000' ? '000001' : '000000');

    test('pair → the device proves the code → its own token works → revoking it stops the token at once', async () => {
      const p = await pair();
      assert.match(p.code, /^\d{6}$/);
      assert.equal(Date.parse(p.expiresAt), now + 60_000);
      const d = await k.request('GET', `/api/runtime/devices/${p.id}`, { token: alice.token });
      assert.equal(d.body.state, 'pending');
      assert.ok(!JSON.stringify(d.body).includes(p.code), 'the code is shown once, at pairing');

      const v = await verify(p.id, p.code);
      assert.equal(v.status, 200, v.text);
      assert.match(v.body.token, /\S{20,}/);
      const mine = await k.request('GET', `/api/runtime/devices/${p.id}`, { token: alice.token });
      assert.deepEqual([mine.body.state, mine.body.tokenId], ['paired', v.body.tokenId]);
      const chat = await k.request('POST', '/api/agent/message', { token: v.body.token, body: { message: 'hello from the phone' } });
      assert.equal(chat.status, 200, chat.text);
      const session = await k.request('GET', `/api/sessions/${chat.body.sessionId}`, { token: alice.token });
      assert.equal(session.body.owner, alice.user.id, 'the device talks to agents as the user who paired it');
      // A kernel API token of alice's, labelled with the device and scoped to it; its secret is never listed.
      const tokens = (await k.request('GET', '/api/tokens', { token: alice.token })).body.items;
      const t = tokens.find((x: any) => x.id === v.body.tokenId);
      assert.deepEqual([t.name, t.userId, t.scopes], [`device:${p.id}`, alice.user.id, ['device']]);
      assert.ok(!JSON.stringify(tokens).includes(v.body.token));

      const again = await verify(p.id, p.code);
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'PLINTH_ERR_DEVICE_STATE');

      const list = (await k.request('GET', '/api/runtime/devices', { token: alice.token })).body.items;
      assert.deepEqual(list.map((x: any) => x.id), [p.id]);
      assert.deepEqual((await k.request('GET', '/api/runtime/devices', { token: bob.token })).body.items, []);
      assert.equal((await k.request('GET', `/api/runtime/devices/${p.id}`, { token: bob.token })).status, 404);
      assert.equal((await k.request('DELETE', `/api/runtime/devices/${p.id}`, { token: bob.token })).status, 404);
      assert.equal((await k.request('GET', '/api/agents', { token: v.body.token })).status, 200, 'bob\'s attempt changed nothing');

      const revoked = await k.request('DELETE', `/api/runtime/devices/${p.id}`, { token: alice.token });
      assert.equal(revoked.status, 200, revoked.text);
      assert.equal(revoked.body.state, 'revoked');
      assert.equal((await k.request('GET', '/api/agents', { token: v.body.token })).status, 401);
      assert.equal((await k.request('GET', `/api/runtime/devices/${p.id}`, { token: alice.token })).status, 200, 'the user\'s own token is untouched');
    });

    test('a device token talks to agents (and the OpenAI-compatible API); everywhere else it is refused with 403 naming its scope, where the user\'s own token works', async () => {
      const p = await pair('cli');
      const device = (await verify(p.id, p.code)).body as { token: string; tokenId: string };
      const session = await k.request('POST', '/api/sessions', { token: device.token, body: { agent: 'assistant' } });
      assert.equal(session.status, 201, session.text);
      const sid = session.body.id;
      const said = await k.request('POST', `/api/sessions/${sid}/messages`, { token: device.token, body: { message: 'ping' } });
      assert.equal(said.status, 200, said.text);
      const history = await k.request('GET', `/api/sessions/${sid}/messages`, { token: device.token });
      assert.deepEqual(history.body.items.map((m: any) => m.role), ['user', 'assistant']);
      const models = await k.request('GET', '/v1/models', { token: device.token });
      assert.equal(models.status, 200, models.text);
      const completion = await k.request('POST', '/v1/chat/completions', { token: device.token, body: { model: 'agent/assistant', messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(completion.status, 200, completion.text);
      assert.equal(await upgrade('/api/agent/ws', device.token), 101);

      const refused: Array<[string, string, unknown?]> = [
        ['GET', '/api/runtime/devices'], ['GET', `/api/runtime/devices/${p.id}`], ['POST', '/api/runtime/devices/pair', { name: 'another' }],
        ['DELETE', `/api/runtime/devices/${p.id}`], ['GET', '/api/tokens'], ['DELETE', `/api/tokens/${device.tokenId}`],
        ['POST', '/api/agents', { name: 'mine', model: 'builtin/echo' }], ['DELETE', `/api/sessions/${sid}`], ['GET', `/api/sessions/${sid}/turns`],
        ['GET', '/api/stats/costs'], ['POST', '/api/ws/ticket'],
      ];
      for (const [method, path, body] of refused) {
        const r = await k.request(method, path, { token: device.token, body });
        assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
        assert.equal(r.body.error.code, 'PLINTH_ERR_TOKEN_SCOPE', `${method} ${path}`);
        assert.deepEqual(r.body.error.details.tokenScopes, ['device']);
        assert.match(r.body.error.message, new RegExp(`^${method} \\S+ needs a token with its user's full rights`));
      }
      assert.equal(await upgrade('/ws', device.token), 403);
      // Nothing the refused calls asked for happened; the user's own token does each of them.
      assert.equal((await k.request('GET', `/api/sessions/${sid}`, { token: alice.token })).status, 200);
      assert.equal((await k.request('GET', `/api/sessions/${sid}/turns`, { token: alice.token })).status, 200);
      assert.equal((await k.request('GET', '/api/stats/costs', { token: alice.token })).status, 200);
      assert.equal((await k.request('GET', `/api/runtime/devices/${p.id}`, { token: alice.token })).body.state, 'paired');
      assert.equal((await k.request('POST', '/api/agents', { token: alice.token, body: { name: 'mine', model: 'builtin/echo' } })).status, 201);
      assert.equal(await upgrade('/ws', alice.token), 101);
      assert.equal((await k.request('GET', '/api/agents', { token: device.token })).status, 200, 'the device still works');
      assert.equal((await k.request('DELETE', `/api/tokens/${device.tokenId}`, { token: alice.token })).status, 204);
      assert.equal((await k.request('GET', '/api/agents', { token: device.token })).status, 401);
    });

    test('a wrong code is refused with the tries left, then the pairing locks; an expired code is refused', async () => {
      const p = await pair();
      const w1 = await verify(p.id, wrong(p.code));
      assert.equal(w1.status, 403);
      assert.equal(w1.body.error.code, 'PLINTH_ERR_DEVICE_CODE');
      assert.equal(w1.body.error.details.attemptsLeft, 2);
      await verify(p.id, wrong(p.code));
      assert.equal((await verify(p.id, wrong(p.code))).body.error.details.attemptsLeft, 0);
      const locked = await verify(p.id, p.code);
      assert.equal(locked.status, 423);
      assert.equal(locked.body.error.code, 'PLINTH_ERR_DEVICE_LOCKED');

      const late = await pair();
      now += 60_001;
      const expired = await verify(late.id, late.code);
      assert.equal(expired.status, 410);
      assert.equal(expired.body.error.code, 'PLINTH_ERR_DEVICE_EXPIRED');

      assert.equal((await verify('dev_nope', '123456')).status, 404);
      const bad = await k.request('POST', `/api/runtime/devices/${late.id}/verify`, { token: null, body: { code: 12 } });
      assert.equal(bad.status, 400);
      assert.equal((await k.request('POST', '/api/runtime/devices/pair', { token: null, body: { name: 'x' } })).status, 401);
    });

    test('two right answers at once: one device token, the other is told it is paired', async () => {
      const p = await pair();
      const [a, b] = await Promise.all([verify(p.id, p.code), verify(p.id, p.code)]);
      assert.deepEqual([a.status, b.status].sort(), [200, 409]);
    });
  });
}
