import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

const PLUGINS = join(__dirname, '..', '..');
const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];
const API_KEY = 'sk-test-0123456789abcdef';
const BOT_TOKEN = '123456789:AAHfakeTokenForTheInterviewTest_0123';

for (const database of dialects) {
  describe(`setup interview (${database})`, () => {
    let k: TestKernel;
    before(async () => {
      k = await createTestKernel({
        database,
        plugins: ['agents', 'channels', 'telegram', 'interview'].map(p => ({ path: join(PLUGINS, p) })),
      });
    });
    after(() => k.stop());

    const turn = async (id: string, answer: string, token?: string) => {
      const r = await k.request('POST', '/api/interview/turn', { body: { id, answer }, ...(token ? { token } : {}) });
      assert.equal(r.status, 200, r.text);
      return r.body;
    };
    const config = async () => (await k.request('GET', '/api/config')).body.plugins;
    const agentNames = async () => (await k.request('GET', '/api/agents')).body.items.map((a: any) => a.name);

    test('the scripted interview asks again after a bad answer, proposes a diff, applies nothing until confirmed', async () => {
      const s = await k.request('POST', '/api/interview/start', { body: {} });
      assert.equal(s.status, 201, s.text);
      assert.equal(s.body.question.key, 'provider');
      const id = s.body.id;

      let r = await turn(id, 'skynet');
      assert.deepEqual([r.retry, r.question.key], [true, 'provider']);
      assert.match(r.problem, /not one of builtin, openai, anthropic/);
      r = await turn(id, 'OpenAI');
      assert.deepEqual([r.question.key, r.question.secret], ['apiKey', true]);
      r = await turn(id, 'short');
      assert.deepEqual([r.retry, r.question.key], [true, 'apiKey']);
      r = await turn(id, API_KEY);
      assert.equal(r.question.key, 'agentName');
      r = await turn(id, 'assistant');
      assert.deepEqual([r.retry, r.question.key], [true, 'agentName'], 'an existing agent name is asked again');
      r = await turn(id, 'support-bot');
      r = await turn(id, 'hm');
      assert.deepEqual([r.retry, r.question.key], [true, 'instructions']);
      r = await turn(id, 'Answer customer questions about our shop, politely and briefly.');
      r = await turn(id, 'carrier pigeon');
      assert.deepEqual([r.retry, r.question.key], [true, 'channels']);
      r = await turn(id, 'telegram');
      r = await turn(id, 'not-a-token');
      assert.deepEqual([r.retry, r.question.key], [true, 'telegramToken']);
      r = await turn(id, BOT_TOKEN);
      assert.deepEqual([r.done, r.question], [true, null]);
      const closed = await k.request('POST', '/api/interview/turn', { body: { id, answer: 'more' } });
      assert.equal(closed.status, 409);

      const before = await config();
      const proposal = await k.request('POST', '/api/interview/finish', { body: { id } });
      assert.equal(proposal.status, 200, proposal.text);
      assert.equal(proposal.body.applied, false);
      assert.deepEqual(proposal.body.changes.map((c: any) => c.path), [
        'providers.openai.key', 'agents.support-bot', 'plugins.telegram.config.botToken', 'plugins.channels.config.channels.telegram.agent']);
      assert.deepEqual(proposal.body.requests.map((q: any) => `${q.method} ${q.path}`), ['PUT /api/providers/openai/key', 'POST /api/agents', 'PUT /api/config']);
      assert.ok(!proposal.text.includes(API_KEY) && !proposal.text.includes(BOT_TOKEN), 'secrets are masked in the proposal');
      // Nothing applied yet.
      assert.deepEqual(await config(), before);
      assert.ok(!(await agentNames()).includes('support-bot'));
      const openaiKey = async () => (await k.request('GET', '/api/providers')).body.items.find((p: any) => p.name === 'openai').keyStored;
      assert.equal(await openaiKey(), false);

      assert.equal((await k.request('GET', '/api/interview/status')).body.completed, false);
      const applied = await k.request('POST', '/api/interview/finish', { body: { id, confirm: true } });
      assert.equal(applied.status, 200, applied.text);
      assert.equal(applied.body.applied, true);
      assert.deepEqual(applied.body.results.map((x: any) => `${x.method} ${x.path} ${x.status < 300}`), ['PUT /api/providers/openai/key true', 'POST /api/agents true', 'PUT /api/config true']);
      assert.equal(await openaiKey(), true);
      const agent = (await k.request('GET', '/api/agents')).body.items.find((a: any) => a.name === 'support-bot');
      assert.deepEqual([agent.model, agent.instructions], ['openai/gpt-4o-mini', 'Answer customer questions about our shop, politely and briefly.']);
      const after = await config();
      assert.equal(after.telegram.config.botToken, BOT_TOKEN);
      assert.equal(after.channels.config.channels.telegram.agent, 'support-bot');
      assert.ok(!applied.text.includes(API_KEY) && !applied.text.includes(BOT_TOKEN));
      assert.equal((await k.request('GET', '/api/interview/status')).body.completed, true);
      const again = await k.request('POST', '/api/interview/finish', { body: { id, confirm: true } });
      assert.equal(again.status, 409);
    });

    test('admins only, each their own interview; bad input is a clear 400', async () => {
      const user = await k.createUser();
      assert.equal((await k.request('POST', '/api/interview/start', { token: user.token, body: {} })).status, 403);
      const s = (await k.request('POST', '/api/interview/start', { body: {} })).body;
      const other = await k.createUser({ role: 'admin' });
      const r = await k.request('POST', '/api/interview/turn', { token: other.token, body: { id: s.id, answer: 'builtin' } });
      assert.equal(r.status, 404);
      assert.equal((await turn(s.id, 'builtin')).question.key, 'agentName', 'builtin needs no key');
      const early = await k.request('POST', '/api/interview/finish', { body: { id: s.id } });
      assert.equal(early.status, 409);
      assert.equal(early.body.error.code, 'PLINTH_ERR_INTERVIEW_STATE');
      const bad = await k.request('POST', '/api/interview/turn', { body: { id: 'nope', answer: 'x' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'PLINTH_ERR_VALIDATION');
    });
  });
}
