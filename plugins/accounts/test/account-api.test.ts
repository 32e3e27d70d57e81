import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

const ACCOUNTS = join(__dirname, '..');
const OIDC = join(__dirname, '..', '..', 'oidc');

describe('the account API is this plugin; the kernel keeps the users, tokens and request auth', () => {
  let k: TestKernel;
  let alice: { token: string; user: { id: string } };
  before(async () => {
    k = await createTestKernel({ plugins: [{ path: ACCOUNTS }, { path: OIDC }] });
    alice = await k.createUser({ email: 'alice@example.test', password: 'correct horse' });
  });
  after(() => k.stop());

  test('signing in works while the plugin is active; disabled, the routes are gone but tokens still admit', async () => {
    const login = await k.request('POST', '/auth/login', { token: null, body: { email: 'alice@example.test', password: 'correct horse' } });
    assert.equal(login.status, 200);
    assert.match(login.headers.get('set-cookie') ?? '', /^plinth_session=/);
    assert.equal((await k.request('PUT', '/api/plugins/oidc/toggle', { body: { enabled: false } })).status, 200);
    assert.equal((await k.request('PUT', '/api/plugins/accounts/toggle', { body: { enabled: false } })).status, 200);
    const gone = await k.request('POST', '/auth/login', { token: null, body: { email: 'alice@example.test', password: 'correct horse' } });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'PLINTH_ERR_NOT_FOUND');
    assert.equal((await k.request('GET', '/api/users')).status, 404);
    // The kernel still checks tokens on every route: the session and API token from before work, a bad one is 401.
    assert.equal((await k.request('GET', '/api/tools', { token: login.body.token })).status, 200);
    assert.equal((await k.request('GET', '/api/tools', { token: alice.token })).status, 200);
    assert.equal((await k.request('GET', '/api/tools', { token: 'plt_nope' })).status, 401);
    assert.equal((await k.request('PUT', '/api/plugins/accounts/toggle', { body: { enabled: true } })).status, 200);
    assert.equal((await k.request('GET', '/auth/me', { token: login.body.token })).body.user.id, alice.user.id);
  });

  test('sign-in with a provider (oidc) nests inside its /auth; without oidc /auth/google-enabled answers enabled: false', async () => {
    const on = await k.request('PUT', '/api/plugins/oidc/toggle', { body: { enabled: true } });
    assert.equal(on.body.status, 'active', JSON.stringify(on.body));
    assert.deepEqual((await k.request('GET', '/auth/google-enabled')).body, { enabled: false, label: 'Google' });
    assert.equal((await k.request('PUT', '/api/plugins/oidc/toggle', { body: { enabled: false } })).status, 200);
    assert.deepEqual((await k.request('GET', '/auth/google-enabled')).body, { enabled: false });
    assert.equal((await k.request('GET', '/auth/me', { token: null })).status, 200);
  });
});
