import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

describe('hello example', () => {
  let k: TestKernel;
  before(async () => {
    k = await createTestKernel({ plugins: [{ path: join(__dirname, '..'), config: { greeting: 'Hi' } }] });
  });
  after(() => k.stop());

  test('the route greets with the configured greeting and needs a user', async () => {
    const u = await k.createUser();
    assert.deepEqual((await k.request('GET', '/api/hello/greet?name=Ada', { token: u.token })).body, { message: 'Hi, Ada.' });
    assert.equal((await k.request('GET', '/api/hello/greet?name=Ada', { token: null })).status, 401);
    assert.equal((await k.request('GET', '/api/hello/greet', { token: u.token })).status, 400);
  });

  test('the tool runs through the registry with its input validated', async () => {
    const r = await k.request('POST', '/api/plugins/hello/execute/greet', { body: { name: 'Lin' } });
    assert.deepEqual(r.body, { tool: 'hello.greet', result: { message: 'Hi, Lin.' } });
    assert.equal((await k.request('POST', '/api/plugins/hello/execute/greet', { body: { name: '' } })).status, 400);
  });

  test('config is validated against the schema with defaults', async () => {
    const p = (await k.request('GET', '/api/plugins/hello')).body;
    assert.equal(p.status, 'active');
    assert.equal(p.counts.tools, 1);
  });
});
