/**
 * provide() from a sandboxed plugin: the kernel registers a stand-in whose methods cross the IPC
 * channel to the plugin's process, so an in-process plugin and another sandboxed one use it
 * through the ref as they would any service (answers are promises; errors keep their code).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServiceRef, definePlugin, errors } from 'plinth/sdk';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { tempDir } from '../helpers/plugins';

interface Counter { add(n: number): Promise<{ total: number; home: string; instance: number }>; fail(): Promise<never> }
const counterRef = createServiceRef<Counter>({ id: 'counter.tally' });

function writePlugin(root: string, id: string, manifest: Record<string, unknown>, source: string): string {
  const dir = join(root, id);
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'plugin.json'), JSON.stringify({ id, version: '1.0.0', kernel: '^1.0.0', main: 'src/index.ts', ...manifest }));
  writeFileSync(join(dir, 'src', 'index.ts'), source);
  return dir;
}

const root = tempDir('sandboxed-provide-');
// A class instance, so that methods on the prototype cross too.
const provider = writePlugin(root, 'counter', {}, `import { createServiceRef, definePlugin, errors } from 'plinth/sdk';
class Tally {
  total = 0;
  instance = Math.random();
  // HOME is the plugin's own data folder in its sandbox, the user's home in the kernel.
  add(n: number) { this.total += n; return { total: this.total, home: process.env.HOME, instance: this.instance }; }
  fail(): never { throw errors.conflict('the tally refuses'); }
}
export default definePlugin({ provides: [createServiceRef<Tally>({ id: 'counter.tally' })], setup({ provide }) { provide(createServiceRef<Tally>({ id: 'counter.tally' }), new Tally()); } });
`);
const boxedConsumer = writePlugin(root, 'boxed-user', { dependsOn: ['counter'] }, `import { createServiceRef, definePlugin } from 'plinth/sdk';
const tally = createServiceRef<{ add(n: number): Promise<{ total: number }> }>({ id: 'counter.tally' });
export default definePlugin({ deps: { tally }, setup({ http, tally }) { http.post('/add', { auth: 'user' }, async () => tally.add(10)); } });
`);
const impostor = writePlugin(root, 'impostor', {}, `import { createServiceRef, definePlugin } from 'plinth/sdk';
const ref = createServiceRef<{ add(n: number): number }>({ id: 'counter.tally' });
export default definePlugin({ provides: [ref], setup({ provide }) { provide(ref, { add: (n: number) => n }); } });
`);

const inProcessConsumer = {
  manifest: { id: 'local-user', dependsOn: ['counter'] },
  plugin: definePlugin({ deps: { tally: counterRef }, setup({ http, tally }) {
    http.post('/add', { auth: 'user' }, async req => tally.add(Number(req.query.n)));
    http.post('/fail', { auth: 'user' }, async () => tally.fail());
  } }),
};

let k: TestKernel;
before(async () => {
  k = await createTestKernel({ plugins: [{ path: provider, isolation: 'sandbox' }, inProcessConsumer, { path: boxedConsumer, isolation: 'sandbox' }, { path: impostor, isolation: 'sandbox' }] });
});
after(() => k.stop());

test('an in-process plugin calls a service a sandboxed plugin provides; the state lives in the sandboxed process', async () => {
  const one = await k.request('POST', '/api/local-user/add?n=2');
  assert.equal(one.status, 200, JSON.stringify(one.body));
  assert.equal(one.body.total, 2);
  assert.equal(one.body.home, join(k.dataDir, 'plugins', 'counter'), 'the method ran in the sandboxed process');
  assert.equal((await k.request('POST', '/api/local-user/add?n=3')).body.total, 5);
  const refused = await k.request('POST', '/api/local-user/fail');
  assert.equal(refused.status, 409, 'an error thrown in the sandbox keeps its status and code');
  assert.equal(refused.body.error.code, 'PLINTH_ERR_CONFLICT');
  assert.match(refused.body.error.message, /the tally refuses/);
});

test('a sandboxed plugin calls it too, from its own process', async () => {
  const r = await k.request('POST', '/api/boxed-user/add');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.total, 15);
});

test('a sandboxed plugin may provide only its own services', async () => {
  const s = (await k.request('GET', '/api/plugins/impostor')).body;
  assert.equal(s.status, 'error');
  assert.equal(s.error.code, 'PLINTH_ERR_PROVIDES');
  assert.match(s.error.message, /may only provide services named "impostor\.<name>", not "counter\.tally"/);
});

test('a reload of the provider gives its users the new process', async () => {
  const before = (await k.request('POST', '/api/local-user/add?n=1')).body.instance;
  assert.equal((await k.request('POST', '/api/plugins/counter/reload')).status, 200);
  const after = await k.request('POST', '/api/local-user/add?n=1');
  assert.equal(after.status, 200);
  assert.equal(after.body.total, 1, 'a new generation starts from nothing');
  assert.notEqual(after.body.instance, before);
  assert.equal((await k.request('POST', '/api/boxed-user/add')).body.total, 11);
});
