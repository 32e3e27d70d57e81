import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

const DEVICES = join(__dirname, '..');
const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

for (const database of dialects) {
  describe(`devices (${database})`, () => {
    let k: TestKernel;
    let alice: { token: string; user: { id: string } };
    let bob: { token: string; user: { id: string } };
    // The kernel's clock, moved by hand: code expiry without sleeping (and without flaking under load).
    let now = Date.now();
    before(async () => {
      k = await createTestKernel({ database, clock: { now: () => now }, plugins: [{ path: DEVICES, config: { codeTtlMs: 60_000, maxAttempts: 3 } }] });
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
      const mine = await k.request('GET', `/api/runtime/devices/${p.id}`, { token: v.body.token });
      assert.equal(mine.status, 200, 'the device token acts for the user who paired it');
      assert.deepEqual([mine.body.state, mine.body.tokenId], ['paired', v.body.tokenId]);
      // A kernel API token of alice's, labelled with the device; its secret is never listed.
      const tokens = (await k.request('GET', '/api/tokens', { token: alice.token })).body.items;
      const t = tokens.find((x: any) => x.id === v.body.tokenId);
      assert.deepEqual([t.name, t.userId], [`device:${p.id}`, alice.user.id]);
      assert.ok(!JSON.stringify(tokens).includes(v.body.token));

      const again = await verify(p.id, p.code);
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'PLINTH_ERR_DEVICE_STATE');

      const list = (await k.request('GET', '/api/runtime/devices', { token: alice.token })).body.items;
      assert.deepEqual(list.map((x: any) => x.id), [p.id]);
      assert.deepEqual((await k.request('GET', '/api/runtime/devices', { token: bob.token })).body.items, []);
      assert.equal((await k.request('GET', `/api/runtime/devices/${p.id}`, { token: bob.token })).status, 404);
      assert.equal((await k.request('DELETE', `/api/runtime/devices/${p.id}`, { token: bob.token })).status, 404);
      assert.equal((await k.request('GET', `/api/runtime/devices/${p.id}`, { token: v.body.token })).status, 200, 'bob\'s attempt changed nothing');

      const revoked = await k.request('DELETE', `/api/runtime/devices/${p.id}`, { token: alice.token });
      assert.equal(revoked.status, 200, revoked.text);
      assert.equal(revoked.body.state, 'revoked');
      assert.equal((await k.request('GET', `/api/runtime/devices/${p.id}`, { token: v.body.token })).status, 401);
      assert.equal((await k.request('GET', `/api/runtime/devices/${p.id}`, { token: alice.token })).status, 200, 'the user\'s own token is untouched');
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
