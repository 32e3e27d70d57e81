/**
 * PUT /api/settings/models with the whole document: keys, base URLs, models and the default model,
 * in Plinth's fields or the runner's snake_case ones; null removes a stored value; a refused
 * document changes nothing (SQLite, and PostgreSQL when configured).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, startFakeOpenAi, type FakeOpenAi, type TestKernel } from 'plinth/testing';

const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

for (const database of dialects) {
  describe(`the models settings document (${database})`, () => {
    let k: TestKernel;
    let fake: FakeOpenAi;
    before(async () => {
      fake = await startFakeOpenAi({ models: ['fake-model'] });
      // No OpenAI settings in config or environment: everything below comes through the API.
      k = await createTestKernel({ database, plugins: [{ path: join(__dirname, '..') }] });
    });
    after(async () => { await k?.stop(); await fake?.close(); });

    const doc = async () => (await k.request('GET', '/api/settings/models', { token: k.adminToken })).body;
    const put = (body: unknown, token = k.adminToken) => k.request('PUT', '/api/settings/models', { token, body });
    const ask = async () => {
      const s = (await k.request('POST', '/api/sessions', { token: k.adminToken, body: { agent: 'assistant' } })).body;
      return (await k.request('POST', `/api/sessions/${s.id}/messages`, { token: k.adminToken, body: { message: 'which model?' } })).body;
    };

    test('the runner\'s shape sets base URL, model, models and the default model, live; null gives them back to config', async () => {
      const before = await doc();
      assert.equal(before.defaultModel, 'builtin/echo');
      const set = await put({ default_model: 'openai/fake-model', providers: { openai: { base_url: fake.baseUrl, api_key: 'sk-test-key', model: 'fake-model', models: ['fake-model', 'fake-large'] } } });
      assert.equal(set.status, 200, set.text);
      assert.equal(set.body.defaultModel, 'openai/fake-model');
      const openai = set.body.providers.find((p: any) => p.name === 'openai');
      assert.deepEqual([openai.configured, openai.baseUrl, openai.model, openai.keyStored], [true, fake.baseUrl, 'fake-model', true]);
      assert.ok(set.body.models.includes('openai/fake-model'));
      assert.ok(!set.text.includes('sk-test-key'), 'the key is never answered');
      fake.script({ text: ['from the fake'] });
      const answer = await ask();
      assert.equal(answer.text, 'from the fake');
      assert.equal(fake.headers[fake.headers.length - 1].authorization, 'Bearer sk-test-key');

      // Plinth's own fields; null removes the stored values.
      const reset = await put({ defaultModel: null, providers: { openai: { baseUrl: null, apiKey: null, model: null, models: null } } });
      assert.equal(reset.status, 200, reset.text);
      assert.equal(reset.body.defaultModel, 'builtin/echo');
      assert.deepEqual(reset.body.stored, { providers: {} });
      assert.equal(reset.body.providers.find((p: any) => p.name === 'openai').configured, false);
      assert.match((await ask()).text, /which model/);
    });

    test('refused, naming what is wrong, and nothing changes: unknown provider, a field a provider does not take, unknown default, bad URL, two spellings that differ, a non-admin', async () => {
      assert.equal((await put({ providers: { openai: { baseUrl: fake.baseUrl } } })).status, 200);
      const snapshot = await doc();
      const cases: Array<[unknown, RegExp]> = [
        [{ providers: { nope: { model: 'x' } } }, /no provider "nope"/],
        [{ providers: { builtin: { apiKey: 'x' } } }, /builtin.*takes no apiKey/],
        [{ providers: { anthropic: { model: 'claude' } } }, /anthropic.*takes no model/],
        [{ defaultModel: 'nope/model', providers: { openai: { model: 'changed' } } }, /nope/],
        [{ providers: { openai: { baseUrl: 'ftp://example.com' } } }, /baseUrl/],
        [{ providers: { openai: { apiKey: 'a', api_key: 'b' } } }, /apiKey and api_key/],
        [{}, /fewer than 1|minProperties|must NOT have fewer/],
      ];
      for (const [body, why] of cases) {
        const r = await put(body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.match(`${r.body.error.message} ${JSON.stringify(r.body.error.details)}`, why);
      }
      const user = await k.createUser();
      assert.equal((await put({ defaultModel: 'builtin/echo' }, user.token)).status, 403);
      assert.deepEqual(await doc(), snapshot);
      assert.equal((await k.request('GET', '/api/settings/models', { token: user.token })).status, 200);
    });
  });
}
