/** The agent runtime's GET /api/config/status (kernel) and GET /api/runtime/surfaces (plugins/observability), through the real server. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

let k: TestKernel;
// The surfaces are served by the observability plugin (the kernel names no plugin).
before(async () => { k = await createTestKernel({ plugins: ['channels', 'observability'].map(id => ({ path: join(__dirname, '..', '..', 'plugins', id) })) }); });
after(() => k?.stop());

test('GET /api/config/status is the last apply\'s result (admin only)', async () => {
  assert.deepEqual((await k.request('GET', '/api/config/status')).body, { lastApply: null });
  const put = await k.request('PUT', '/api/config', { body: { kernel: { logLevel: 'debug' }, plugins: { nowhere: {} } } });
  assert.equal(put.status, 200, put.text);
  const { lastApply } = (await k.request('GET', '/api/config/status')).body;
  assert.deepEqual(lastApply.applied, put.body.applied);
  assert.deepEqual(lastApply.failed.map((f: any) => f.plugin), ['nowhere']);
  assert.ok(Date.parse(lastApply.at) > 0);
  const u = await k.createUser();
  assert.equal((await k.request('GET', '/api/config/status', { token: u.token })).status, 403);
});

test('GET /api/runtime/surfaces lists every way in with its status', async () => {
  const u = await k.createUser();
  const r = await k.request('GET', '/api/runtime/surfaces', { token: u.token });
  assert.equal(r.status, 200, r.text);
  const by = Object.fromEntries(r.body.items.map((s: any) => [s.surface, s.status]));
  assert.equal(by.http, 'up');
  assert.equal(by.websocket, 'up');
  assert.equal(by.channels, 'up');
  assert.equal(by.mcp, 'absent');
  assert.equal(by.a2a, 'absent');
  assert.equal((await k.request('GET', '/api/runtime/surfaces', { token: null })).status, 401);
});
