import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { coreServices, createServiceFactory, type Logger } from 'plinth/sdk';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { tempDir, writePlugin } from '../helpers/plugins';

const provider = `import { createServiceRef, definePlugin } from 'plinth/sdk';
const ref = createServiceRef<{ n(): number }>({ id: 'counter.value' });
export default definePlugin({
  provides: [ref],
  setup({ provide, http, clock, log }) {
    log.info('counter up');
    http.get('/now', { auth: 'public' }, () => ({ now: clock.now() }));
    provide(ref, { n: () => 42 });
  },
});
`;
const consumer = (optional: boolean) => `import { createServiceRef, definePlugin } from 'plinth/sdk';
const ref = createServiceRef<{ n(): number }>({ id: 'counter.value' })${optional ? '.asOptional()' : ''};
export default definePlugin({
  deps: { counter: ref },
  setup({ http, counter, log }) {
    log.info('reader up');
    http.get('/n', { auth: 'public' }, () => ({ n: counter ? counter.n() : null }));
  },
});
`;

describe('the service registry', () => {
  let k: TestKernel;
  const logged: Array<{ plugin: string; generation: number; msg: string }> = [];
  before(async () => {
    const dir = tempDir();
    const recordingLogger = createServiceFactory({
      service: coreServices.logger,
      scope: 'plugin',
      factory: ({ pluginId, generation }): Logger => {
        const log: Logger = {
          debug: () => {}, warn: () => {}, error: () => {},
          info: msg => { logged.push({ plugin: pluginId, generation, msg }); },
          child: () => log,
        };
        return log;
      },
    });
    k = await createTestKernel({
      plugins: [
        { path: writePlugin(dir, { id: 'counter', code: provider }) },
        { path: writePlugin(dir, { id: 'needs', code: consumer(false), manifest: { dependsOn: ['counter'] } }) },
        { path: writePlugin(dir, { id: 'maybe', code: consumer(true), manifest: { optionalDependsOn: ['counter'] } }) },
      ],
      serviceFactories: [createServiceFactory({ service: coreServices.clock, scope: 'root', factory: () => ({ now: () => 1234 }) }), recordingLogger],
    });
  });
  after(() => k.stop());

  const get = async (path: string) => (await k.request('GET', path, { token: null })).body;

  test('a test kernel replaces kernel services: a root one for all, a plugin-scoped one per generation', async () => {
    assert.deepEqual(await get('/api/counter/now'), { now: 1234 });
    const lines = () => logged.map(l => `${l.plugin}:${l.generation}:${l.msg}`);
    assert.ok(lines().includes('counter:1:counter up') && lines().includes('needs:1:reader up'), JSON.stringify(lines()));
    await k.request('POST', '/api/plugins/counter/reload');
    assert.ok(lines().includes('counter:2:counter up') && lines().includes('needs:2:reader up'), JSON.stringify(lines()));
  });

  test('a provided service is found by its ref id while its provider serves, and not after', async () => {
    assert.equal(k.kernel.host.service<{ n(): number }>('counter.value')?.n(), 42);
    assert.deepEqual(await get('/api/needs/n'), { n: 42 });
    await k.request('PUT', '/api/plugins/counter/toggle', { body: { enabled: false } });
    assert.equal(k.kernel.host.service('counter.value'), undefined);
    assert.deepEqual(await get('/api/maybe/n'), { n: null }, 'an optional consumer restarts without it');
    await k.request('PUT', '/api/plugins/counter/toggle', { body: { enabled: true } });
    assert.deepEqual(await get('/api/maybe/n'), { n: 42 });
  });

  test('fail(id) marks a plugin error from outside; what requires it stops; a reload starts it again', async () => {
    await k.kernel.host.fail('counter', 'crashed three times in five minutes');
    const counter = (await k.request('GET', '/api/plugins/counter')).body;
    assert.equal(counter.status, 'error');
    assert.equal(counter.error.code, 'PLINTH_ERR_PLUGIN_FAULT');
    assert.equal((await k.request('GET', '/api/counter/now', { token: null })).status, 404);
    assert.equal((await k.request('GET', '/api/plugins/needs')).body.status, 'error');
    assert.deepEqual(await get('/api/maybe/n'), { n: null });
    assert.equal((await k.request('POST', '/api/plugins/counter/reload')).status, 200);
    assert.equal((await k.request('GET', '/api/plugins/counter')).body.status, 'active');
    assert.equal((await k.request('GET', '/api/plugins/needs')).body.status, 'active');
    assert.deepEqual(await get('/api/needs/n'), { n: 42 });
  });
});
