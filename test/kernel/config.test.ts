import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

const HELLO = join(__dirname, '..', '..', 'examples', 'hello');

describe('config, capabilities and logs', () => {
  let k: TestKernel;
  before(async () => { k = await createTestKernel({ plugins: [{ path: HELLO }] }); });
  after(() => k.stop());

  test('GET /api/config is admin only and shows kernel and plugin config', async () => {
    const u = await k.createUser();
    assert.equal((await k.request('GET', '/api/config', { token: u.token })).status, 403);
    const c = (await k.request('GET', '/api/config')).body;
    assert.equal(c.kernel.host, '127.0.0.1');
    assert.ok(c.plugins.hello.configSchema);
  });

  test('PUT /api/config applies plugin config live, validated, and says what needs a restart', async () => {
    const r = await k.request('PUT', '/api/config', { body: { plugins: { hello: { greeting: 'Hoi', excited: true } }, kernel: { port: 9999, logLevel: 'debug' } } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.applied.sort(), ['kernel.logLevel', 'plugins.hello']);
    assert.deepEqual(r.body.restartRequired, ['kernel.port']);
    assert.deepEqual((await k.request('GET', '/api/hello/greet?name=Ann')).body, { message: 'Hoi, Ann!' });
    assert.equal(JSON.parse(readFileSync(k.registryPath, 'utf8')).plugins[0].config.greeting, 'Hoi');

    const bad = await k.request('PUT', '/api/config', { body: { plugins: { hello: { greeting: '' } } } });
    assert.equal(bad.body.failed[0].error.code, 'PLINTH_ERR_CONFIG');
    assert.deepEqual((await k.request('GET', '/api/hello/greet?name=Ann')).body, { message: 'Hoi, Ann!' }, 'a rejected config changes nothing');
    assert.equal(JSON.parse(readFileSync(k.registryPath, 'utf8')).plugins[0].config.greeting, 'Hoi');
    assert.equal((await k.request('PUT', '/api/config', { body: { kernel: { port: 'x' } } })).status, 400);
  });

  test('capabilities and logs', async () => {
    const caps = (await k.request('GET', '/api/config/capabilities')).body;
    assert.deepEqual(caps.plugins, ['hello']);
    assert.equal(caps.database, 'sqlite');
    const logs = (await k.request('GET', '/api/logs?plugin=hello&limit=5')).body.items;
    assert.ok(logs.length > 0);
    assert.ok(logs.every((l: any) => l.plugin === 'hello'));
    assert.equal((await k.request('GET', '/api/logs?level=loud')).status, 400);
  });
});
