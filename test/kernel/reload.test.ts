import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { tempDir, versionedPlugin, writePlugin } from '../helpers/plugins';

async function eventually<T>(fn: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T;
  do {
    last = await fn();
    if (check(last)) return last;
    await new Promise(r => setTimeout(r, 20));
  } while (Date.now() < end);
  return last;
}

const providerCode = (greeting: string) => `import { createServiceRef, definePlugin } from 'plinth/sdk';
export const greeterRef = createServiceRef<{ greet(n: string): string }>({ id: 'provider.greeter' });
export default definePlugin({
  provides: [greeterRef],
  setup({ provide }) { provide(greeterRef, { greet: (n: string) => ${JSON.stringify(greeting)} + ' ' + n }); },
});
`;
const consumerCode = `import { createServiceRef, definePlugin } from 'plinth/sdk';
const greeterRef = createServiceRef<{ greet(n: string): string }>({ id: 'provider.greeter' });
export default definePlugin({
  deps: { greeter: greeterRef },
  setup({ http, greeter, tools }) {
    http.get('/hi', { auth: 'public' }, () => ({ text: greeter.greet('you') }));
    tools.register({ name: 'hi', description: 'says hi', inputSchema: { type: 'object' }, risk: 'safe', run: () => greeter.greet('tool') });
  },
});
`;

describe('hot reload is a transaction', () => {
  let k: TestKernel;
  let dir: string;
  let live: string;
  before(async () => {
    dir = tempDir();
    live = writePlugin(dir, versionedPlugin('live', 'v1'));
    const provider = writePlugin(dir, { id: 'provider', code: providerCode('hello') });
    const consumer = writePlugin(dir, { id: 'consumer', code: consumerCode, manifest: { dependsOn: ['provider'] } });
    const slow = writePlugin(dir, { id: 'slow', code: `import { definePlugin } from 'plinth/sdk';
export default definePlugin({ setup({ http }) {
  http.get('/wait', { auth: 'public' }, async () => { await new Promise(r => setTimeout(r, 400)); return { gen: 'old' }; });
} });` });
    k = await createTestKernel({ plugins: [{ path: live }, { path: provider }, { path: consumer }, { path: slow }], watch: true });
  });
  after(() => k.stop());

  const version = async () => (await k.request('GET', '/api/live/version', { token: null })).body?.version;

  test('a changed file is picked up by the watcher and served with no stale module', async () => {
    assert.equal(await version(), 'v1');
    writeFileSync(join(live, 'src', 'index.ts'), versionedPlugin('live', 'v2').code);
    assert.equal(await eventually(version, v => v === 'v2'), 'v2');
    const p = (await k.request('GET', '/api/plugins/live')).body;
    assert.equal(p.status, 'active');
    assert.ok(p.generation >= 2);
  });

  test('broken code keeps the old generation serving, with the error visible; fixing it recovers', async () => {
    writeFileSync(join(live, 'src', 'index.ts'), versionedPlugin('live', 'v3').code);
    assert.equal(await eventually(version, v => v === 'v3'), 'v3');
    writeFileSync(join(live, 'src', 'index.ts'), 'import { definePlugin } from "plinth/sdk";\nexport default definePlugin({ setup() { throw new Error("half-written"); } });');
    const p = await eventually(async () => (await k.request('GET', '/api/plugins/live')).body, b => !!b.error);
    assert.equal(p.status, 'active');
    assert.match(p.error.message, /reload failed, still serving generation \d+: .*half-written/);
    assert.equal(await version(), 'v3');
    writeFileSync(join(live, 'src', 'index.ts'), 'this is not typescript {{{');
    await eventually(async () => (await k.request('GET', '/api/plugins/live')).body, b => /PLUGIN_LOAD/.test(b.error?.code ?? ''));
    assert.equal(await version(), 'v3');
    writeFileSync(join(live, 'src', 'index.ts'), versionedPlugin('live', 'v4').code);
    assert.equal(await eventually(version, v => v === 'v4'), 'v4');
    assert.equal((await k.request('GET', '/api/plugins/live')).body.error, null);
  });

  test('POST /api/plugins/:id/reload reloads on request (admin only)', async () => {
    const u = await k.createUser();
    assert.equal((await k.request('POST', '/api/plugins/live/reload', { token: u.token })).status, 403);
    const before = (await k.request('GET', '/api/plugins/live')).body.generation;
    const r = await k.request('POST', '/api/plugins/live/reload');
    assert.equal(r.status, 200);
    assert.equal(r.body.generation, before + 1);
    assert.equal((await k.request('POST', '/api/plugins/ghost/reload')).status, 404);
  });

  test('dependents get the new service when their provider reloads', async () => {
    assert.deepEqual((await k.request('GET', '/api/consumer/hi', { token: null })).body, { text: 'hello you' });
    writeFileSync(join(dir, 'provider', 'src', 'index.ts'), providerCode('bonjour'));
    const r = await k.request('POST', '/api/plugins/provider/reload');
    assert.equal(r.status, 200);
    assert.deepEqual((await k.request('GET', '/api/consumer/hi', { token: null })).body, { text: 'bonjour you' });
    const tool = await k.request('POST', '/api/plugins/consumer/execute/hi', { body: {} });
    assert.equal(tool.body.result, 'bonjour tool');
  });

  test('a request in flight finishes on the old generation while new requests get the new one', async () => {
    const pending = k.request('GET', '/api/slow/wait', { token: null });
    await new Promise(r => setTimeout(r, 100));
    writeFileSync(join(dir, 'slow', 'src', 'index.ts'), `import { definePlugin } from 'plinth/sdk';
export default definePlugin({ setup({ http }) { http.get('/wait', { auth: 'public' }, () => ({ gen: 'new' })); } });`);
    const reload = await k.request('POST', '/api/plugins/slow/reload');
    assert.equal(reload.status, 200);
    assert.deepEqual((await k.request('GET', '/api/slow/wait', { token: null })).body, { gen: 'new' });
    const old = await pending;
    assert.equal(old.status, 200);
    assert.deepEqual(old.body, { gen: 'old' });
  });

  test('disable removes routes and tools (404), updates the registry file; enable brings them back', async () => {
    const u = await k.createUser();
    assert.equal((await k.request('PUT', '/api/plugins/consumer/toggle', { token: u.token, body: { enabled: false } })).status, 403);
    const off = await k.request('PUT', '/api/plugins/consumer/toggle', { body: { enabled: false } });
    assert.equal(off.body.status, 'disabled');
    assert.equal((await k.request('GET', '/api/consumer/hi', { token: null })).status, 404);
    const tools = (await k.request('GET', '/api/tools')).body.items.map((t: any) => t.name);
    assert.ok(!tools.includes('consumer.hi'));
    const reg = JSON.parse(readFileSync(k.registryPath, 'utf8'));
    assert.equal(reg.plugins.find((p: any) => p.id === 'consumer').enabled, false);
    const on = await k.request('PUT', '/api/plugins/consumer/toggle', {});
    assert.equal(on.body.status, 'active');
    assert.equal((await k.request('GET', '/api/consumer/hi', { token: null })).status, 200);
    assert.equal(JSON.parse(readFileSync(k.registryPath, 'utf8')).plugins.find((p: any) => p.id === 'consumer').enabled, true);
  });

  test('disabling a provider stops what requires it; enabling it restarts them', async () => {
    await k.request('PUT', '/api/plugins/provider/toggle', { body: { enabled: false } });
    const c = (await k.request('GET', '/api/plugins/consumer')).body;
    assert.equal(c.status, 'error');
    assert.match(c.error.message, /"provider"/);
    assert.equal((await k.request('GET', '/api/consumer/hi', { token: null })).status, 404);
    await k.request('PUT', '/api/plugins/provider/toggle', { body: { enabled: true } });
    assert.equal((await k.request('GET', '/api/plugins/consumer')).body.status, 'active');
    assert.equal((await k.request('GET', '/api/consumer/hi', { token: null })).status, 200);
  });
});
