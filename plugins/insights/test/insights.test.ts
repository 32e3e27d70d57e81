import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { definePlugin } from 'plinth/sdk';
import { modelProvidersRef, type ChatRequest, type ModelProvider } from 'plinth/contracts/agents';
import { createTestKernel, mockServices, type TestKernel } from 'plinth/testing';

const AGENTS = join(__dirname, '..', '..', 'agents');
const INSIGHTS = join(__dirname, '..');
const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const words = (s: string) => (s.match(/\S+/g) ?? []).length;

/**
 * A scripted model, keyed by the user's message: `loop` calls probe.echo with the same input three
 * times, `ignore` calls the failing probe.broken and answers as if nothing happened, `slow` waits.
 * `script/tiny` has a 40-token window. Tokens are words, as on builtin.
 */
const scripted: ModelProvider = {
  name: 'script',
  async listModels() { return [{ id: 'tiny', contextWindow: 40 }, { id: 'big', contextWindow: 1_000_000 }]; },
  async chat(req: ChatRequest) {
    const inputTokens = req.messages.reduce((n, m) => n + words(m.content), 0);
    const user = [...req.messages].reverse().find(m => m.role === 'user')!.content;
    const toolResults = req.messages.filter(m => m.role === 'tool').length;
    const call = (name: string) => ({ text: '', toolCalls: [{ id: `c${toolResults}`, name, arguments: '{"x":1}' }], usage: { inputTokens, outputTokens: 1 }, finishReason: 'tool_calls' as const });
    if (user === 'loop' && toolResults < 3) return call('probe.echo');
    if (user === 'ignore' && toolResults < 1) return call('probe.broken');
    if (user === 'slow') await sleep(1600);
    const text = user === 'ignore' ? 'all good' : user;
    return { text, toolCalls: [], usage: { inputTokens, outputTokens: words(text) }, finishReason: 'stop' as const };
  },
};
const flaky: ModelProvider = {
  name: 'flaky',
  async listModels() { return [{ id: 'm' }]; },
  async chat() { throw new Error('flaky is down'); },
};
const helpers = {
  manifest: { id: 'probe', dependsOn: ['agents'] },
  plugin: definePlugin({
    deps: { providers: modelProvidersRef },
    setup({ tools, providers, onDispose }) {
      onDispose(providers.register(scripted));
      onDispose(providers.register(flaky));
      tools.register({ name: 'echo', description: 'echoes', inputSchema: { type: 'object' }, risk: 'safe', run: (i: unknown) => i });
      tools.register({ name: 'broken', description: 'always fails', inputSchema: { type: 'object' }, risk: 'safe', run: () => { throw new Error('the probe broke'); } });
    },
  }),
};

for (const database of dialects) {
  describe(`insights (${database})`, () => {
    let k: TestKernel;
    let alice: { token: string; user: { id: string } };
    let bob: { token: string; user: { id: string } };
    before(async () => {
      k = await createTestKernel({
        database,
        services: [mockServices.toolPolicy()],
        plugins: [
          { path: AGENTS, config: { prices: { 'script/big': { input: 1_000_000, output: 0 }, 'builtin/echo': { input: 1, output: 2 } } } },
          helpers,
          { path: INSIGHTS, config: { slowModelCallMs: 1500, longSystemPromptChars: 2000 } },
        ],
      });
      alice = await k.createUser();
      bob = await k.createUser();
    });
    after(() => k.stop());

    const agent = async (name: string, fields: Record<string, unknown>, token = alice.token) => {
      const r = await k.request('POST', '/api/agents', { token, body: { name, instructions: 'be brief', allowed_tools: ['*'], ...fields } });
      assert.equal(r.status, 201, r.text);
    };
    const session = async (agentName: string, token = alice.token) => (await k.request('POST', '/api/sessions', { token, body: { agent: agentName } })).body.id as string;
    const say = async (id: string, message: string, token = alice.token) => {
      const r = await k.request('POST', `/api/sessions/${id}/messages`, { token, body: { message } });
      assert.equal(r.status, 200, r.text);
      return r.body.turnId as string;
    };
    const tips = async (turnId: string, token = alice.token) => {
      const r = await k.request('GET', `/api/turns/${turnId}/tips`, { token });
      assert.equal(r.status, 200, r.text);
      return r.body.items as Array<{ code: string; severity: string; message: string; evidence: any }>;
    };
    const codes = async (turnId: string) => (await tips(turnId)).map(t => t.code).sort();

    test('a plain turn has no tips; each crafted turn triggers its heuristic with evidence', async () => {
      await agent('plain', { model: 'script/big' });
      const plain = await session('plain');
      const first = await say(plain, 'hello');
      assert.deepEqual(await codes(first), []);
      // /api/turns/:id/tips is claimed by insights; the rest of /api/turns stays the agents plugin's.
      assert.equal((await k.request('GET', `/api/turns/${first}`, { token: alice.token })).body.id, first);
      assert.equal((await k.request('GET', `/api/turns/${first}/tools`, { token: alice.token })).status, 200);
      assert.equal((await k.request('GET', `/api/turns/${first}/nothing`, { token: alice.token })).status, 404);

      await agent('tiny', { model: 'script/tiny' });
      const near = await tips(await say(await session('tiny'), Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ')));
      assert.deepEqual(near.map(t => t.code), ['context_near_window']);
      assert.equal(near[0].evidence.contextWindow, 40);
      assert.ok(near[0].evidence.inputTokens >= 40);

      const loop = await tips(await say(await session('plain'), 'loop'));
      assert.deepEqual(loop.map(t => t.code), ['tool_repeated']);
      assert.deepEqual([loop[0].evidence.tool, loop[0].evidence.count, loop[0].evidence.input], ['probe.echo', 3, { x: 1 }]);

      const ignored = await tips(await say(await session('plain'), 'ignore'));
      assert.deepEqual(ignored.map(t => t.code), ['tool_error_ignored']);
      assert.equal(ignored[0].evidence.tool, 'probe.broken');
      assert.match(JSON.stringify(ignored[0].evidence.output), /the probe broke/);

      await agent('verbose', { model: 'script/big', instructions: 'x'.repeat(2500) });
      const long = await tips(await say(await session('verbose'), 'hi'));
      assert.deepEqual(long.map(t => t.code), ['long_system_prompt']);
      assert.ok(long[0].evidence.chars > 2000);

      const slow = await tips(await say(await session('plain'), 'slow'));
      assert.deepEqual(slow.map(t => t.code), ['slow_model_call']);
      assert.ok(slow[0].evidence.latencyMs > 1500);

      await agent('fb', { model: 'flaky/m', fallback_models: ['builtin/echo'] });
      const fb = await tips(await say(await session('fb'), 'hi'));
      assert.deepEqual(fb.map(t => t.code), ['fallback_model']);
      assert.deepEqual([fb[0].evidence.requested, fb[0].evidence.used], ['flaky/m', 'builtin/echo']);

      await agent('short', { model: 'script/big', max_turns: 1 });
      const cut = await tips(await say(await session('short'), 'loop'));
      assert.deepEqual(cut.map(t => t.code), ['truncated_answer']);
      assert.deepEqual([cut[0].evidence.status, cut[0].evidence.finishReason], ['partial', 'tool_calls']);

      // Costs are 1 USD per input token on script/big: three short turns, then one far longer.
      const costly = await session('plain');
      for (const m of ['a', 'b', 'c']) assert.deepEqual(await codes(await say(costly, m)), []);
      const big = await tips(await say(costly, Array.from({ length: 60 }, () => 'word').join(' ')));
      assert.deepEqual(big.map(t => t.code), ['cost_above_median']);
      assert.equal(big[0].evidence.turnsCompared, 3);
      assert.ok(big[0].evidence.cost > 3 * big[0].evidence.sessionMedian);
    });

    test('another user\'s turn and session are 404; a bad id is a clear error', async () => {
      const s = await session('plain');
      const turn = await say(s, 'hello');
      for (const [m, p] of [['GET', `/api/turns/${turn}/tips`], ['POST', `/api/turns/${turn}/analyze`], ['POST', `/api/sessions/${s}/analyze`], ['GET', `/api/sessions/${s}/insights`]]) {
        const r = await k.request(m, p, { token: bob.token, body: m === 'POST' ? {} : undefined });
        assert.equal(r.status, 404, `${m} ${p}: ${r.text}`);
        assert.equal(r.body.error.code, 'PLINTH_ERR_NOT_FOUND');
      }
      const bad = await k.request('POST', `/api/turns/${turn}/analyze`, { token: alice.token, body: { model: 'NOT A MODEL' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'PLINTH_ERR_VALIDATION');
    });

    test('analyses run on the model, are stored with their cost, deterministic on builtin, owner-only', async () => {
      await agent('echoer', { model: 'builtin/echo' });
      const s = await session('echoer');
      const turn = await say(s, 'hello analyst');
      const a1 = await k.request('POST', `/api/turns/${turn}/analyze`, { token: alice.token, body: { model: 'builtin/echo' } });
      assert.equal(a1.status, 201, a1.text);
      assert.match(a1.body.id, /^ana_/);
      assert.equal(a1.body.model, 'builtin/echo');
      assert.match(a1.body.text, new RegExp(`Turn ${turn} of agent echoer on builtin/echo: status ok`));
      assert.ok(a1.body.usage.inputTokens > 0);
      assert.equal(a1.body.cost, (a1.body.usage.inputTokens * 1 + a1.body.usage.outputTokens * 2) / 1e6);
      const a2 = await k.request('POST', `/api/turns/${turn}/analyze`, { token: alice.token, body: { model: 'builtin/echo' } });
      assert.equal(a2.body.text, a1.body.text, 'the builtin analysis is deterministic');

      const stored = await k.request('GET', `/api/insights/analyses/${a1.body.id}`, { token: alice.token });
      assert.equal(stored.status, 200);
      assert.deepEqual(stored.body, a1.body);
      const other = await k.request('GET', `/api/insights/analyses/${a1.body.id}`, { token: bob.token });
      assert.equal(other.status, 404);

      const sa = await k.request('POST', `/api/sessions/${s}/analyze`, { token: alice.token, body: {} });
      assert.equal(sa.status, 201, sa.text);
      assert.match(sa.body.text, new RegExp(`Session ${s}: 1 turn\\(s\\) on builtin/echo`));
      const empty = await session('echoer');
      const none = await k.request('POST', `/api/sessions/${empty}/analyze`, { token: alice.token, body: {} });
      assert.equal(none.status, 409);
      assert.equal(none.body.error.code, 'PLINTH_ERR_INSIGHTS_NO_TURNS');

      const feedback = await k.request('POST', `/api/turns/${turn}/feedback`, { token: alice.token, body: { grade: 4 } });
      assert.equal(feedback.status, 201, feedback.text);
      const agg = (await k.request('GET', `/api/sessions/${s}/insights`, { token: alice.token })).body;
      assert.equal(agg.turns, 1);
      assert.equal(agg.errors, 0);
      assert.deepEqual(agg.models, ['builtin/echo']);
      assert.deepEqual(agg.feedback, { graded: 1, averageGrade: 4 });
      assert.equal(agg.latestAnalysis.id, sa.body.id);
      assert.ok(agg.tokens.input > 0 && agg.tokens.output === 2);
    });

    test('recommendations: a failing tool, a cheaper model at equal grades, an open breaker; generated ones are stored', async () => {
      const carol = await k.createUser();
      const grade = (turn: string, g: number) => k.request('POST', `/api/turns/${turn}/feedback`, { token: carol.token, body: { grade: g } });
      await agent('worker', { model: 'script/big' }, carol.token);
      const s = await session('worker', carol.token);
      for (const m of ['ignore', 'ignore', 'ignore', 'loop']) await say(await session('worker', carol.token), m, carol.token);
      // flaky fails three times in a row: its breaker opens (the fallback answers each time).
      await agent('fb-carol', { model: 'flaky/m', fallback_models: ['builtin/echo'] }, carol.token);
      const fb = await session('fb-carol', carol.token);
      for (const m of ['x', 'y', 'z']) await say(fb, m, carol.token);
      for (const m of ['one two three four five', 'six seven eight nine ten']) await grade(await say(s, m, carol.token), 4);
      // The same agent on builtin/echo for this session: far cheaper, graded the same.
      const cheap = (await k.request('POST', '/api/sessions', { token: carol.token, body: { agent: 'worker', model: 'builtin/echo' } })).body.id;
      await grade(await say(cheap, 'one two three four five', carol.token), 4);

      const r = await k.request('GET', '/api/recommendations', { token: carol.token });
      assert.equal(r.status, 200, r.text);
      const byCode = Object.fromEntries(r.body.items.map((i: any) => [i.code, i]));
      assert.ok(byCode.tool_failing && byCode.switch_model && byCode.breaker_open, JSON.stringify(r.body.items));
      assert.match(byCode.tool_failing.message, /tool probe.broken fails 100 % of calls/);
      assert.match(byCode.switch_model.message, /switch agent worker to model builtin\/echo: \d+ % cheaper at equal grades/);
      assert.equal(byCode.switch_model.priority, 3);
      assert.match(byCode.breaker_open.message, /provider flaky is failing/);
      const priorities = r.body.items.map((i: any) => i.priority);
      assert.deepEqual(priorities, [...priorities].sort((a: number, b: number) => b - a));
      assert.equal(r.body.generated, null);

      // Another user's turns are not in carol's figures.
      const mine = (await k.request('GET', '/api/recommendations', { token: bob.token })).body;
      assert.equal(mine.turnsConsidered, 0);

      const gen = await k.request('POST', '/api/recommendations/generate', { token: carol.token, body: { model: 'builtin/echo' } });
      assert.equal(gen.status, 201, gen.text);
      assert.match(gen.body.text, /tool probe.broken fails 100 % of calls/);
      assert.equal((await k.request('GET', '/api/recommendations', { token: carol.token })).body.generated.id, gen.body.id);
    });
  });
}
