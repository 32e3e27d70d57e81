/**
 * The agent runtime's routes over the turns, through the real server (SQLite, and PostgreSQL when
 * configured): the model selection log, prompt-cache figures, the spend ledger.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, startFakeOpenAi, type FakeOpenAi, type TestKernel } from 'plinth/testing';

const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

for (const database of dialects) {
  describe(`agent runtime logs (${database})`, () => {
    let k: TestKernel;
    let fake: FakeOpenAi;
    let alice: { token: string; user: any };
    let bob: { token: string; user: any };
    before(async () => {
      fake = await startFakeOpenAi();
      k = await createTestKernel({
        database,
        plugins: [{ path: join(__dirname, '..'), config: { openai: { baseUrl: fake.baseUrl, model: 'fake-model' }, prices: { 'openai/fake-model': { input: 1, output: 2 } } } }],
      });
      alice = await k.createUser();
      bob = await k.createUser();
    });
    after(async () => { await k?.stop(); await fake?.close(); });

    const say = async (token: string, model: string, message: string) => {
      const s = (await k.request('POST', '/api/sessions', { token, body: { agent: 'assistant', model } })).body;
      const r = await k.request('POST', `/api/sessions/${s.id}/messages`, { token, body: { message } });
      assert.equal(r.status, 200, r.text);
      return { sessionId: s.id as string, turnId: r.body.turnId as string };
    };

    test('GET /api/models/selections: each turn\'s model asked for, chosen and why, newest first, paged; yours only, filters; bad input named', async () => {
      const first = await say(alice.token, 'builtin/echo', 'one');
      fake.script({ text: ['two'] });
      const second = await say(alice.token, 'openai/fake-model', 'two');
      await say(bob.token, 'builtin/echo', 'bob');
      const r = await k.request('GET', '/api/models/selections', { token: alice.token });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.items.map((i: any) => i.turnId), [second.turnId, first.turnId]);
      const s = r.body.items[0];
      assert.deepEqual([s.sessionId, s.agent, s.requested, s.used, s.status], [second.sessionId, 'assistant', 'openai/fake-model', 'openai/fake-model', 'ok']);
      assert.equal(typeof s.reason, 'string');
      const page1 = await k.request('GET', '/api/models/selections?limit=1', { token: alice.token });
      assert.deepEqual(page1.body.items.map((i: any) => i.turnId), [second.turnId]);
      const page2 = await k.request('GET', `/api/models/selections?limit=1&cursor=${page1.body.nextCursor}`, { token: alice.token });
      assert.deepEqual(page2.body.items.map((i: any) => i.turnId), [first.turnId]);
      assert.deepEqual((await k.request('GET', `/api/models/selections?session_id=${first.sessionId}`, { token: alice.token })).body.items.map((i: any) => i.turnId), [first.turnId]);
      assert.deepEqual((await k.request('GET', '/api/models/selections?model=openai/fake-model', { token: alice.token })).body.items.map((i: any) => i.turnId), [second.turnId]);
      // An admin sees everyone's.
      assert.equal((await k.request('GET', '/api/models/selections', { token: k.adminToken })).body.items.length, 3);
      const bad = await k.request('GET', '/api/models/selections?since=yesterday', { token: alice.token });
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(bad.body.error), /since/);
    });

    test('GET /api/stats/cache and /api/agent/status: hits and misses as the provider reports them; turns it reports nothing for stand apart', async () => {
      const carol = await k.createUser();
      fake.script({ text: ['warm'], usage: { prompt_tokens: 120, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 96 } } });
      const hit = await say(carol.token, 'openai/fake-model', 'again');
      fake.script({ text: ['cold'], usage: { prompt_tokens: 120, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 0 } } });
      await say(carol.token, 'openai/fake-model', 'new');
      await say(carol.token, 'builtin/echo', 'local');
      const turn = (await k.request('GET', `/api/turns/${hit.turnId}`, { token: carol.token })).body;
      assert.deepEqual([turn.cache_read_tokens, turn.cache_write_tokens], [96, null]);

      const r = await k.request('GET', '/api/stats/cache', { token: carol.token });
      assert.equal(r.status, 200, r.text);
      const byModel = Object.fromEntries(r.body.items.map((i: any) => [i.model, i]));
      assert.deepEqual(byModel['openai/fake-model'], { model: 'openai/fake-model', turns: 2, unreported: 0, hits: 1, misses: 1, hitRate: 0.5, cacheReadTokens: 96, cacheWriteTokens: 0, inputTokens: 240 });
      assert.deepEqual([byModel['builtin/echo'].unreported, byModel['builtin/echo'].hits, byModel['builtin/echo'].misses, byModel['builtin/echo'].hitRate], [1, 0, 0, null]);
      assert.deepEqual([r.body.total.turns, r.body.total.hits, r.body.total.misses, r.body.total.hitRate], [3, 1, 1, 0.5]);
      assert.deepEqual((await k.request('GET', '/api/stats/cache?model=builtin/echo', { token: carol.token })).body.items.map((i: any) => i.model), ['builtin/echo']);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      assert.equal((await k.request('GET', `/api/stats/cache?since=${future}`, { token: carol.token })).body.total.turns, 0);
      assert.equal((await k.request('GET', '/api/stats/cache?group=day', { token: carol.token })).status, 400);

      const status = await k.request('GET', '/api/agent/status', { token: carol.token });
      assert.deepEqual([status.body.cache.hits, status.body.cache.misses, status.body.cache.cacheReadTokens, status.body.cache.period], [1, 1, 96, 'last 24 hours']);
      // An admin's figures take everyone's turns.
      assert.ok((await k.request('GET', '/api/agent/status', { token: k.adminToken })).body.cache.turns >= 3 + 3);
    });

    test('GET /api/stats/transactions: each turn\'s tokens and cost, newest first, paged, with the total of the whole filter; yours only', async () => {
      const dave = await k.createUser();
      fake.script({ text: ['priced'], usage: { prompt_tokens: 1000, completion_tokens: 500 } });
      const paid = await say(dave.token, 'openai/fake-model', 'costly');
      const free = await say(dave.token, 'builtin/echo', 'free');
      const r = await k.request('GET', '/api/stats/transactions?limit=1', { token: dave.token });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.items.map((i: any) => i.id), [free.turnId]);
      assert.deepEqual(r.body.total, { turns: 2, cost: 0.002, currency: 'USD' });
      const next = await k.request('GET', `/api/stats/transactions?limit=1&cursor=${r.body.nextCursor}`, { token: dave.token });
      const t = next.body.items[0];
      // Prices are per million tokens: 1000 in × 1 + 500 out × 2 = 2000 / 1e6.
      assert.deepEqual([t.id, t.sessionId, t.model, t.inputTokens, t.outputTokens, t.cost, t.currency, t.status], [paid.turnId, paid.sessionId, 'openai/fake-model', 1000, 500, 0.002, 'USD', 'ok']);
      assert.equal(next.body.nextCursor, null);
      assert.deepEqual((await k.request('GET', '/api/stats/transactions?model=builtin/echo', { token: dave.token })).body.total.turns, 1);
      assert.equal((await k.request('GET', '/api/stats/transactions', { token: (await k.createUser()).token })).body.items.length, 0);
      assert.equal((await k.request('GET', '/api/stats/transactions?limit=0', { token: dave.token })).status, 400);
    });
  });
}
