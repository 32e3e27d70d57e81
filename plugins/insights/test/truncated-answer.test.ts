import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, startFakeOpenAi, type FakeOpenAi, type TestKernel } from 'plinth/testing';

const AGENTS = join(__dirname, '..', '..', 'agents');
const INSIGHTS = join(__dirname, '..');

/**
 * The truncated-answer tip reads the model's finish reason the runtime recorded, from a real
 * provider's answer (a scripted OpenAI-compatible server): a reply cut at the token limit is an
 * `ok` turn that only its finish reason shows. The turn's status decides only where no reason is known.
 */
describe('insights: truncated answers from the finish reason', () => {
  let k: TestKernel;
  let fake: FakeOpenAi;
  let u: { token: string };
  before(async () => {
    fake = await startFakeOpenAi();
    k = await createTestKernel({ plugins: [{ path: AGENTS, config: { openai: { baseUrl: fake.baseUrl, model: 'fake-model' } } }, { path: INSIGHTS }] });
    u = await k.createUser();
  });
  after(async () => { await k.stop(); await fake.close(); });

  /** One turn in a new session, and its tips. */
  const tipsOfTurn = async () => {
    const session = (await k.request('POST', '/api/sessions', { token: u.token, body: { agent: 'assistant' } })).body.id;
    await k.request('POST', `/api/sessions/${session}/messages`, { token: u.token, body: { message: 'list them all' } });
    const [turn] = (await k.request('GET', `/api/sessions/${session}/turns`, { token: u.token })).body.items;
    const tips = await k.request('GET', `/api/turns/${turn.id}/tips`, { token: u.token });
    assert.equal(tips.status, 200, tips.text);
    return { turn, tips: tips.body.items as Array<{ code: string; severity: string; message: string; evidence: any }> };
  };

  test('finish_reason length: a truncated answer on a turn that is otherwise ok', async () => {
    fake.script({ text: ['one, two, three, fo'], finish: 'length' });
    const { turn, tips } = await tipsOfTurn();
    assert.deepEqual([turn.status, turn.finish_reason], ['ok', 'length']);
    assert.deepEqual(tips.map(t => t.code), ['truncated_answer']);
    assert.equal(tips[0].severity, 'warning');
    assert.deepEqual(tips[0].evidence, { finishReason: 'length', status: 'ok', error: null });
    assert.match(tips[0].message, /output token limit/);
  });

  test('content_filter is truncated too; a complete answer (stop) has no tip', async () => {
    fake.script({ text: [''], finish: 'content_filter' });
    const filtered = await tipsOfTurn();
    assert.deepEqual(filtered.tips.map(t => [t.code, t.evidence.finishReason]), [['truncated_answer', 'content_filter']]);
    fake.script({ text: ['one, two, three.'] });
    const complete = await tipsOfTurn();
    assert.equal(complete.turn.finish_reason, 'stop');
    assert.deepEqual(complete.tips, []);
  });

  test('no reason known (the call failed): the turn\'s status decides', async () => {
    fake.script({ status: 500, message: 'upstream broke' });
    const { turn, tips } = await tipsOfTurn();
    assert.deepEqual([turn.status, turn.finish_reason], ['error', null]);
    assert.deepEqual(tips.map(t => [t.code, t.severity]), [['truncated_answer', 'critical']]);
    assert.equal(tips[0].evidence.finishReason, null);
    assert.match(tips[0].message, /incomplete: error/);
  });
});
