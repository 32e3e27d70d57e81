import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

for (const database of ['sqlite', 'postgres'] as const) {
  describe(`admins manage users (${database})`, { skip: database === 'postgres' && !process.env.PLINTH_TEST_POSTGRES_URL && 'PLINTH_TEST_POSTGRES_URL not set' }, () => {
    let k: TestKernel;
    before(async () => { k = await createTestKernel({ database, plugins: [{ path: join(__dirname, '..') }] }); });
    after(() => k.stop());

    test('GET /api/users lists role and disabled flag; users are refused', async () => {
      const u = await k.createUser({ password: 'a-good-password' });
      const res = await k.request('GET', '/api/users');
      assert.equal(res.status, 200);
      const row = res.body.items.find((x: any) => x.id === u.user.id);
      assert.equal(row.disabled, false);
      assert.equal(row.role, 'user');
      assert.ok(row.createdAt);
      assert.equal(row.password_hash, undefined);
      assert.equal((await k.request('GET', '/api/users', { token: u.token })).status, 403);
      assert.equal((await k.request('PATCH', `/api/users/${u.user.id}`, { token: u.token, body: { role: 'admin' } })).status, 403);
      assert.equal((await k.request('DELETE', `/api/users/${u.user.id}`, { token: u.token })).status, 403);
    });

    test('PATCH changes role, name and disabled; a disabled user cannot sign in or use its tokens', async () => {
      const u = await k.createUser({ password: 'a-good-password' });
      const email = u.user.email;
      let res = await k.request('PATCH', `/api/users/${u.user.id}`, { body: { name: 'Ursula', role: 'admin' } });
      assert.equal(res.status, 200);
      assert.equal(res.body.user.name, 'Ursula');
      assert.equal(res.body.user.role, 'admin');
      assert.equal((await k.request('GET', '/api/users', { token: u.token })).status, 200, 'the new role applies at once');
      res = await k.request('PATCH', `/api/users/${u.user.id}`, { body: { disabled: true } });
      assert.equal(res.body.user.disabled, true);
      assert.equal((await k.request('GET', '/auth/me', { token: u.token })).status, 401);
      const login = await k.request('POST', '/auth/login', { token: null, body: { email, password: 'a-good-password' } });
      assert.equal(login.status, 403);
      assert.equal(login.body.error.code, 'PLINTH_ERR_FORBIDDEN');
      await k.request('PATCH', `/api/users/${u.user.id}`, { body: { disabled: false } });
      assert.equal((await k.request('GET', '/auth/me', { token: u.token })).status, 200);
      assert.equal((await k.request('POST', '/auth/login', { token: null, body: { email, password: 'a-good-password' } })).status, 200);
    });

    test('bad input is refused with a clear error and changes nothing', async () => {
      const u = await k.createUser();
      for (const body of [{}, { role: 'root' }, { disabled: 'yes' }, { email: 'x@y.z' }]) {
        const res = await k.request('PATCH', `/api/users/${u.user.id}`, { body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.code, 'PLINTH_ERR_VALIDATION');
      }
      assert.equal((await k.request('PATCH', '/api/users/usr_nobody', { body: { role: 'admin' } })).status, 404);
      assert.equal((await k.request('DELETE', '/api/users/usr_nobody')).status, 404);
      assert.equal((await k.request('PATCH', '/api/users/not-an-id', { body: { role: 'admin' } })).status, 400);
      const row = (await k.request('GET', '/api/users')).body.items.find((x: any) => x.id === u.user.id);
      assert.deepEqual([row.role, row.disabled], ['user', false]);
    });

    test('an admin cannot disable, demote or delete itself; another admin can change it', async () => {
      const me = (await k.request('GET', '/auth/me')).body.user;
      for (const [method, body] of [['PATCH', { disabled: true }], ['PATCH', { role: 'user' }], ['DELETE', undefined]] as const) {
        const res = await k.request(method, `/api/users/${me.id}`, { body });
        assert.equal(res.status, 409);
        assert.equal(res.body.error.code, 'PLINTH_ERR_CONFLICT');
      }
      // The same changes made by another admin are allowed.
      const other = await k.createUser({ role: 'admin' });
      const res = await k.request('PATCH', `/api/users/${me.id}`, { token: other.token, body: { role: 'user' } });
      assert.equal(res.status, 200);
      assert.equal((await k.request('GET', '/api/users')).status, 403, 'the demoted admin has lost admin rights');
      assert.equal((await k.request('PATCH', `/api/users/${me.id}`, { token: other.token, body: { role: 'admin' } })).status, 200);
    });

    test('the auth store refuses to leave no enabled admin (a path the CLI reaches offline)', async () => {
      const admins = (await k.request('GET', '/api/users')).body.items.filter((x: any) => x.role === 'admin' && !x.disabled);
      for (const x of admins.slice(1)) await k.kernel.auth.updateUser(x.id, { role: 'user' });
      await assert.rejects(k.kernel.auth.updateUser(admins[0].id, { disabled: true }), /last enabled admin/);
      await assert.rejects(k.kernel.auth.deleteUser(admins[0].id), /last enabled admin/);
    });

    test('DELETE removes the user and its tokens; what it owned is kept', async () => {
      const u = await k.createUser();
      await k.users.createToken(u.user.id);
      assert.equal((await k.request('DELETE', `/api/users/${u.user.id}`)).status, 204);
      assert.equal((await k.request('GET', '/auth/me', { token: u.token })).status, 401);
      assert.ok(!(await k.request('GET', '/api/users')).body.items.some((x: any) => x.id === u.user.id));
      assert.ok(!(await k.request('GET', '/api/tokens')).body.items.some((x: any) => x.userId === u.user.id));
      assert.equal((await k.request('DELETE', `/api/users/${u.user.id}`)).status, 404);
    });
  });
}
