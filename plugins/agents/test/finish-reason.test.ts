import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { turnRecordsRef } from 'plinth/contracts/agents';
import { createTestKernel, startFakeAnthropic, startFakeOpenAi, waitFor, type FakeAnthropic, type FakeOpenAi, type TestKernel } from 'plinth/testing';

const AGENTS = join(__dirname, '..');
const OPENAI_API = join(__dirname, '..', '..', 'openai-api');
const KEY = 'sk-ant-test-key';
const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

/**
 * Each turn records why the model stopped, from the provider's answer: OpenAI's `finish_reason`,
 * Anthropic's `stop_reason` (in OpenAI's words), `stop` on builtin; GET /api/turns/:id shows it.
 */
for (const database of dialects) {
  describe(`finish reasons on turns (${database})`, () => {
    let k: TestKernel;
    let openai: FakeOpenAi;
    let anthropic: FakeAnthropic;
    let u: { token: string; user: { id: string } };
    before(async () => {
      openai = await startFakeOpenAi();
      anthropic = await startFakeAnthropic({ apiKey: KEY });
      k = await createTestKernel({
        database,
        plugins: [{
          path: AGENTS,
          config: {
            openai: { baseUrl: openai.baseUrl, model: 'fake-model' },
            anthropic: { baseUrl: anthropic.baseUrl, apiKey: KEY, models: ['claude-haiku-4-5'], maxTokens: 512 },
            breaker: { failureThreshold: 5, cooldownMs: 60_000 },
          },
        }, { path: OPENAI_API }],
      });
      u = await k.createUser();
      for (const [name, model] of [['gpt', 'openai/fake-model'], ['claude', 'anthropic/claude-haiku-4-5'], ['echo', 'builtin/echo']]) {
        const made = await k.request('POST', '/api/agents', { token: u.token, body: { name, model, instructions: 'Be brief.' } });
        assert.equal(made.status, 201, made.text);
      }
    });
    after(async () => { await k.stop(); await openai.close(); await anthropic.close(); });

    /** One turn with an agent in a new session: the turn as GET /api/turns/:id shows it (a failed one answers no turn id: found in the session). */
    const turnOf = async (agent: string, message = 'hi') => {
      const session = (await k.request('POST', '/api/sessions', { token: u.token, body: { agent } })).body.id;
      const said = await k.request('POST', `/api/sessions/${session}/messages`, { token: u.token, body: { message } });
      const [listed] = (await k.request('GET', `/api/sessions/${session}/turns`, { token: u.token })).body.items;
      const turn = await k.request('GET', `/api/turns/${listed.id}`, { token: u.token });
      assert.equal(turn.status, 200, turn.text);
      assert.equal(listed.finish_reason, turn.body.finish_reason, 'the session\'s turn list shows it too');
      return { ...turn.body, answer: said.body.text, session };
    };

    test('OpenAI: length and content_filter are recorded as the provider said them; a complete answer is stop', async () => {
      openai.script({ text: ['The list goes on: one, two, thr'], finish: 'length' });
      const cut = await turnOf('gpt');
      assert.deepEqual([cut.status, cut.finish_reason, cut.answer], ['ok', 'length', 'The list goes on: one, two, thr']);

      openai.script({ text: [''], finish: 'content_filter' });
      assert.equal((await turnOf('gpt')).finish_reason, 'content_filter');
      openai.script({ text: ['All ', 'done.'] });
      assert.equal((await turnOf('gpt')).finish_reason, 'stop');
    });

    test('Anthropic: stop_reason max_tokens is length, refusal is content_filter, end_turn is stop', async () => {
      anthropic.script({ text: ['Once upon a'], stopReason: 'max_tokens' });
      const cut = await turnOf('claude');
      assert.deepEqual([cut.status, cut.finish_reason], ['ok', 'length']);
      anthropic.script({ text: ['I can\'t help with that.'], stopReason: 'refusal' });
      assert.equal((await turnOf('claude')).finish_reason, 'content_filter');
      anthropic.script({ text: ['Hello.'] });
      assert.equal((await turnOf('claude')).finish_reason, 'stop');
    });

    test('builtin answers stop; a turn whose model call failed has none', async () => {
      assert.equal((await turnOf('echo')).finish_reason, 'stop');
      openai.script({ status: 500, message: 'upstream broke' });
      const failed = await turnOf('gpt');
      assert.deepEqual([failed.status, failed.finish_reason], ['error', null]);
    });

    test('a call proxied through the model router (the OpenAI-compatible API) records it too', async () => {
      openai.script({ text: ['and so'], finish: 'length' });
      const r = await k.request('POST', '/v1/chat/completions', { token: u.token, body: { model: 'openai/fake-model', messages: [{ role: 'user', content: 'go on' }] } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.choices[0].finish_reason, 'length');
      const records = k.service(turnRecordsRef)!;
      const turn = await waitFor(async () => (await records.recentTurns(u.user.id, 1)).find(t => t.via === 'openai-api'), 'the proxied turn');
      assert.equal(turn.finish_reason, 'length');
    });
  });
}
