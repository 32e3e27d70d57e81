import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, startFakeAnthropic, startFakeOpenAi, type FakeAnthropic, type FakeOpenAi, type TestKernel } from 'plinth/testing';

const PLUGINS = join(__dirname, '..', '..');
const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];
const API_KEY = 'sk-test-0123456789abcdef';
const BOT_TOKEN = '123456789:AAHfakeTokenForTheInterviewTest_0123';
const ANT_KEY = 'sk-ant-test-key';

/** The model's answer: text, and a record_answers call with these fields (OpenAI wire format). */
const records = (fields: Record<string, string>, text = 'Noted.') =>
  ({ text: [text], toolCalls: [{ id: 'call_1', name: 'record_answers', args: [JSON.stringify(fields)] }] });

/**
 * The setup interview led by a configured model through the agents runtime: free-form answers
 * become answers to several questions at once (the model calls record_answers), each still
 * checked by the script; secrets never reach the model; nothing is applied without confirmation.
 */
for (const database of dialects) {
  describe(`setup interview led by a model (OpenAI wire format, ${database})`, () => {
    let k: TestKernel;
    let fake: FakeOpenAi;
    before(async () => {
      fake = await startFakeOpenAi();
      k = await createTestKernel({
        database,
        plugins: [
          { path: join(PLUGINS, 'agents'), config: { openai: { baseUrl: fake.baseUrl, model: 'fake-model' }, breaker: { failureThreshold: 10, cooldownMs: 60_000 } } },
          ...['channels', 'telegram', 'interview'].map(p => ({ path: join(PLUGINS, p) })),
        ],
      });
    });
    after(async () => { await k.stop(); await fake.close(); });

    const turn = async (id: string, answer: string) => {
      const r = await k.request('POST', '/api/interview/turn', { body: { id, answer } });
      assert.equal(r.status, 200, r.text);
      return r.body;
    };
    const start = async () => {
      const s = await k.request('POST', '/api/interview/start', { body: {} });
      assert.equal(s.status, 201, s.text);
      return s.body;
    };

    test('free-form answers settle several questions; secrets go to the script, never to the model; the proposal waits for confirmation', async () => {
      const s = await start();
      assert.deepEqual([s.ledBy, s.question.key], ['openai/fake-model', 'provider']);

      fake.script(records({ provider: 'openai' }, 'OpenAI it is. Next I need its API key.'));
      let r = await turn(s.id, 'We sell tea online. Let us use OpenAI.');
      assert.deepEqual([r.recorded, r.question.key, r.question.secret, r.said], [['provider'], 'apiKey', true, 'OpenAI it is. Next I need its API key.']);
      const asked = fake.requests.at(-1);
      assert.deepEqual(asked.tools.map((t: any) => t.function.name), ['record_answers']);
      assert.deepEqual(Object.keys(asked.tools[0].function.parameters.properties), ['provider', 'agentName', 'instructions', 'channels'], 'no secret field in the tool');
      assert.deepEqual(asked.messages.map((m: any) => m.role), ['system', 'user']);
      assert.equal(asked.messages[1].content, 'We sell tea online. Let us use OpenAI.');
      assert.match(asked.messages[0].content, /The open question: Which model provider/);

      const calls = fake.requests.length;
      r = await turn(s.id, API_KEY);
      assert.equal(r.question.key, 'agentName');
      assert.equal(fake.requests.length, calls, 'a secret answer is not sent to the model');

      fake.script(records({ agentName: 'tea-helper', instructions: 'Answer customers\' questions about our teas, warmly and briefly.', channels: 'telegram' }));
      r = await turn(s.id, 'A bot called tea-helper that answers questions about our teas, reachable on Telegram.');
      assert.deepEqual([r.recorded, r.problems, r.question.key], [['agentName', 'instructions', 'channels'], [], 'telegramToken']);
      const second = JSON.stringify(fake.requests.at(-1));
      assert.ok(!second.includes(API_KEY), 'a settled secret is shown to the model as given, not as itself');
      assert.match(second, /apiKey: \(given\)/);

      r = await turn(s.id, BOT_TOKEN);
      assert.deepEqual([r.done, r.question], [true, null]);
      assert.equal(fake.requests.length, calls + 1);

      const proposal = await k.request('POST', '/api/interview/finish', { body: { id: s.id } });
      assert.equal(proposal.status, 200, proposal.text);
      const agent = proposal.body.changes.find((c: any) => c.path === 'agents.tea-helper').after;
      assert.deepEqual(agent, { name: 'tea-helper', model: 'openai/gpt-4o-mini', instructions: 'Answer customers\' questions about our teas, warmly and briefly.' });
      assert.ok(!proposal.text.includes(API_KEY) && !proposal.text.includes(BOT_TOKEN));
      assert.ok(!(await k.request('GET', '/api/agents')).body.items.some((a: any) => a.name === 'tea-helper'), 'nothing applied before confirmation');
      const applied = await k.request('POST', '/api/interview/finish', { body: { id: s.id, confirm: true } });
      assert.equal(applied.status, 200, applied.text);
      const made = (await k.request('GET', '/api/agents')).body.items.find((a: any) => a.name === 'tea-helper');
      assert.equal(made.instructions, 'Answer customers\' questions about our teas, warmly and briefly.');
      assert.equal((await k.request('GET', '/api/config')).body.plugins.telegram.config.botToken, BOT_TOKEN);
    });

    test('what the model proposes is checked: a bad value is asked again, a good one beside it is kept; no proposal, no progress; a failing model hands over to the script', async () => {
      const s = await start();
      fake.script(records({ provider: 'skynet' }));
      let r = await turn(s.id, 'skynet, obviously');
      assert.deepEqual([r.retry, r.recorded, r.question.key], [true, [], 'provider']);
      assert.deepEqual(r.problems.map((p: any) => p.key), ['provider']);
      assert.match(r.problem, /not one of builtin, openai, anthropic/);

      fake.script({ text: ['Could you tell me which provider?'] });
      r = await turn(s.id, 'hmm');
      assert.deepEqual([r.retry, r.recorded, r.question.key, r.said], [true, [], 'provider', 'Could you tell me which provider?']);
      assert.match(r.problem, /did not answer: Which model provider/);

      fake.script(records({ provider: 'builtin', agentName: 'assistant' }));
      r = await turn(s.id, 'the offline one, and call it assistant');
      assert.deepEqual([r.retry, r.recorded, r.question.key], [undefined, ['provider'], 'agentName']);
      assert.deepEqual(r.problems, [{ key: 'agentName', problem: 'an agent named assistant exists already; choose another name' }]);

      fake.script({ status: 500, message: 'upstream broke' });
      r = await turn(s.id, 'shop-bot');
      assert.deepEqual([r.ledBy, r.question.key], ['script', 'instructions']);
      assert.match(r.modelError, /upstream broke|500/);
      assert.equal((await k.request('POST', '/api/interview/finish', { body: { id: s.id } })).status, 409, 'still questions open');
    });
  });
}

describe('setup interview led by a model (Anthropic wire format, interview config `model`)', () => {
  let k: TestKernel;
  let fake: FakeAnthropic;
  before(async () => {
    fake = await startFakeAnthropic({ apiKey: ANT_KEY });
    k = await createTestKernel({
      plugins: [
        { path: join(PLUGINS, 'agents'), config: { anthropic: { baseUrl: fake.baseUrl, apiKey: ANT_KEY, models: ['claude-haiku-4-5'], maxTokens: 512 } } },
        { path: join(PLUGINS, 'interview'), config: { model: 'anthropic/claude-haiku-4-5' } },
      ],
    });
  });
  after(async () => { await k.stop(); await fake.close(); });

  test('a tool_use block of record_answers settles the questions it names', async () => {
    const s = (await k.request('POST', '/api/interview/start', { body: {} })).body;
    assert.equal(s.ledBy, 'anthropic/claude-haiku-4-5');
    fake.script({ text: ['Offline it is.'], toolUse: [{ id: 'toolu_1', name: 'record_answers', json: ['{"provider": "builtin", ', '"agentName": "helper"}'] }] });
    const r = await k.request('POST', '/api/interview/turn', { body: { id: s.id, answer: 'Keep it offline; name the agent helper.' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.body.recorded, r.body.question.key, r.body.said], [['provider', 'agentName'], 'instructions', 'Offline it is.']);
    const sent = fake.requests.at(-1);
    assert.deepEqual(sent.tools.map((t: any) => t.name), ['record_answers']);
    assert.match(sent.system, /setup assistant of Plinth/);
  });
});
