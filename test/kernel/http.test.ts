import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

const NOTES = join(__dirname, '..', 'fixtures', 'notes');
const ACCOUNTS = join(__dirname, '..', '..', 'plugins', 'accounts');

describe('HTTP: errors, auth and ownership', () => {
  let k: TestKernel;
  let alice: { token: string; user: { id: string } };
  let bob: { token: string; user: { id: string } };
  before(async () => {
    k = await createTestKernel({ plugins: [{ path: ACCOUNTS }, { path: NOTES }] });
    alice = await k.createUser();
    bob = await k.createUser();
  });
  after(() => k.stop());

  test('a handler that throws answers 500 JSON without the stack, and the server stays up', async () => {
    const r = await k.request('GET', '/api/notes/boom', { token: null });
    assert.equal(r.status, 500);
    assert.equal(r.body.error.code, 'PLINTH_ERR_INTERNAL');
    assert.doesNotMatch(r.text, /secret internal detail|at .*\.ts/);
    assert.equal((await k.request('GET', '/api/health', { token: null })).status, 200);
  });

  test('unknown paths are a JSON 404', async () => {
    const r = await k.request('GET', '/api/nothing-here');
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'PLINTH_ERR_NOT_FOUND');
  });

  test('no token is 401, a bad token is 401, a user on an admin route is 403', async () => {
    assert.equal((await k.request('GET', '/api/notes', { token: null })).status, 401);
    const bad = await k.request('GET', '/api/notes', { token: 'plt_nope' });
    assert.equal(bad.status, 401);
    assert.match(bad.body.error.message, /invalid|expired|revoked/);
    const forbidden = await k.request('GET', '/api/logs', { token: alice.token });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.error.code, 'PLINTH_ERR_FORBIDDEN');
  });

  test("another user's object answers 404, the owner and admins see it", async () => {
    const created = await k.request('POST', '/api/notes', { token: alice.token, body: { text: 'alice only' } });
    assert.equal(created.status, 201);
    const id = created.body.id;
    assert.equal((await k.request('GET', `/api/notes/${id}`, { token: alice.token })).status, 200);
    const other = await k.request('GET', `/api/notes/${id}`, { token: bob.token });
    assert.equal(other.status, 404);
    assert.equal((await k.request('DELETE', `/api/notes/${id}`, { token: bob.token })).status, 404);
    assert.equal((await k.request('GET', `/api/notes/${id}`)).status, 200, 'admin sees all');
    const bobs = await k.request('GET', '/api/notes', { token: bob.token });
    assert.deepEqual(bobs.body.items, []);
  });

  test('malformed JSON is 400, a wrong content type 415, a schema violation 400 with details, and nothing is stored', async () => {
    const before = (await k.request('GET', '/api/notes', { token: alice.token })).body.items.length;
    const malformed = await k.request('POST', '/api/notes', { token: alice.token, raw: '{"text":', headers: { 'content-type': 'application/json' } });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.code, 'PLINTH_ERR_MALFORMED_JSON');
    const wrongType = await k.request('POST', '/api/notes', { token: alice.token, raw: 'text=hi', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(wrongType.status, 415);
    const invalid = await k.request('POST', '/api/notes', { token: alice.token, body: { text: 5, extra: true } });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.code, 'PLINTH_ERR_VALIDATION');
    assert.ok(invalid.body.error.details.some((d: any) => d.field === 'body/text'));
    assert.ok(invalid.body.error.details.some((d: any) => d.field === 'body/extra'));
    const missing = await k.request('POST', '/api/notes', { token: alice.token });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error.message, /body\/text is required/);
    const after = (await k.request('GET', '/api/notes', { token: alice.token })).body.items.length;
    assert.equal(after, before);
  });

  test('a body over the limit is 413 (kernel limit and per-route limit)', async () => {
    const huge = JSON.stringify({ text: 'x'.repeat(1024 * 1024 + 10) });
    const r = await k.request('POST', '/api/notes', { token: alice.token, raw: huge, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 413);
    assert.equal(r.body.error.code, 'PLINTH_ERR_TOO_LARGE');
    const small = await k.request('POST', '/api/notes/upload', { token: alice.token, raw: Buffer.alloc(512), headers: { 'content-type': 'application/octet-stream' } });
    assert.deepEqual(small.body, { bytes: 512 });
    const big = await k.request('POST', '/api/notes/upload', { token: alice.token, raw: Buffer.alloc(2048), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(big.status, 413);
  });

  test('a plugin serves the absolute prefix its manifest claims', async () => {
    const r = await k.request('GET', '/api/notes-public/ping', { token: null });
    assert.deepEqual(r.body, { pong: true });
  });

  test('login with email and password gives a token and a cookie session; logout revokes it', async () => {
    const u = await k.request('POST', '/api/users', { body: { email: 'carol@example.test', password: 'correct horse', role: 'user' } });
    assert.equal(u.status, 201);
    const dup = await k.request('POST', '/api/users', { body: { email: 'carol@example.test', password: 'correct horse' } });
    assert.equal(dup.status, 409);
    const wrong = await k.request('POST', '/auth/login', { token: null, body: { email: 'carol@example.test', password: 'nope' } });
    assert.equal(wrong.status, 401);
    const login = await k.request('POST', '/auth/login', { token: null, body: { email: 'carol@example.test', password: 'correct horse' } });
    assert.equal(login.status, 200);
    assert.match(login.headers.get('set-cookie') ?? '', /plinth_session=.*HttpOnly/);
    const me = await k.request('GET', '/auth/me', { token: login.body.token });
    assert.equal(me.body.user.email, 'carol@example.test');
    const cookie = `plinth_session=${encodeURIComponent(login.body.token)}`;
    const byCookie = await k.request('GET', '/auth/me', { token: null, headers: { cookie } });
    assert.equal(byCookie.status, 200);
    const crossSite = await k.request('POST', '/api/notes', { token: null, headers: { cookie, origin: 'http://evil.example' }, body: { text: 'csrf' } });
    assert.equal(crossSite.status, 403);
    assert.equal((await k.request('POST', '/auth/logout', { token: login.body.token })).status, 200);
    assert.equal((await k.request('GET', '/auth/me', { token: login.body.token })).status, 401);
  });

  test('API tokens: create, list without secrets, revoke', async () => {
    const t = await k.request('POST', `/api/users/${alice.user.id}/tokens`, { token: alice.token, body: { name: 'ci' } });
    assert.equal(t.status, 201);
    assert.match(t.body.token, /^plt_/);
    const list = await k.request('GET', '/api/tokens', { token: alice.token });
    assert.ok(list.body.items.some((x: any) => x.id === t.body.id));
    assert.ok(!list.text.includes(t.body.token));
    assert.equal((await k.request('POST', `/api/users/${alice.user.id}/tokens`, { token: bob.token, body: {} })).status, 404);
    assert.equal((await k.request('DELETE', `/api/tokens/${t.body.id}`, { token: bob.token })).status, 404);
    assert.equal((await k.request('DELETE', `/api/tokens/${t.body.id}`, { token: alice.token })).status, 204);
    assert.equal((await k.request('GET', '/auth/me', { token: t.body.token })).status, 401);
  });

  test('OpenAPI 3.1 lists kernel and plugin routes with their auth and schemas', async () => {
    const r = await k.request('GET', '/api/openapi.json', { token: null });
    assert.equal(r.body.openapi, '3.1.0');
    assert.equal(r.body.paths['/api/notes/{id}'].get['x-plinth-auth'], 'user');
    assert.ok(r.body.paths['/api/notes'].post.requestBody);
    assert.ok(r.body.paths['/api/plugins/{id}/reload'].post);
  });
});
