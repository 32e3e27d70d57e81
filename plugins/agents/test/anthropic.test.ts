import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { startFakeAnthropic, type FakeAnthropic } from 'plinth/testing';
import { readSse } from 'plinth/testing';

const AGENTS = join(__dirname, '..');
const TOOLBOX = join(__dirname, 'fixtures', 'toolbox');
const KEY = 'sk-ant-test-key';

describe('the anthropic provider against a fake Messages API', () => {
  let k: TestKernel;
  let fake: FakeAnthropic;
  let u: { token: string };
  before(async () => {
    fake = await startFakeAnthropic({ apiKey: KEY });
    k = await createTestKernel({
      plugins: [{ path: TOOLBOX }, {
        path: AGENTS,
        config: { anthropic: { baseUrl: fake.baseUrl, apiKey: KEY, models: ['claude-haiku-4-5'], maxTokens: 512 }, breaker: { failureThreshold: 2, cooldownMs: 60_000 } },
      }],
    });
    u = await k.createUser();
    const made = await k.request('POST', '/api/agents', {
      body: { name: 'claude', model: 'anthropic/claude-haiku-4-5', instructions: 'Be brief.', allowed_tools: ['toolbox.*'] },
    });
    assert.equal(made.status, 201, made.text);
  });
  after(async () => { await k.stop(); await fake.close(); });

  const newSession = async () => (await k.request('POST', '/api/sessions', { token: u.token, body: { agent: 'claude' } })).body.id as string;
  const say = (id: string, message: string) => k.request('POST', `/api/sessions/${id}/messages`, { token: u.token, body: { message } });
  const stream = (id: string, message: string) => fetch(`${k.baseUrl}/api/sessions/${id}/messages`, {
    method: 'POST', headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ message }),
  });

  test('text streams from text_delta events; usage comes from message_start and message_delta; the request is Messages API shaped', async () => {
    assert.ok((await k.request('GET', '/api/models/available', { token: u.token })).body.items.some((m: any) => m.id === 'anthropic/claude-haiku-4-5'));
    const id = await newSession();
    fake.script({ text: ['Hel', 'lo, ', 'there'], usage: { input_tokens: 321, output_tokens: 9 } });
    const frames = await readSse(await stream(id, 'hi'));
    assert.deepEqual(frames.filter(f => f.event === 'chunk').map(f => f.data.text), ['Hel', 'lo, ', 'there']);
    const done = frames.at(-1)!;
    assert.equal(done.event, 'done', JSON.stringify(frames.at(-1)));
    assert.equal(done.data.message.content, 'Hello, there');
    assert.deepEqual(done.data.usage, { inputTokens: 321, outputTokens: 9 });

    const sent = fake.requests.at(-1);
    const headers = fake.headers.at(-1)!;
    assert.equal(headers['x-api-key'], KEY);
    assert.equal(headers['anthropic-version'], '2023-06-01');
    assert.equal(sent.model, 'claude-haiku-4-5');
    assert.equal(sent.max_tokens, 512);
    assert.equal(sent.stream, true);
    assert.match(sent.system, /^Be brief\./, 'instructions go in the top-level system field');
    assert.deepEqual(sent.messages, [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
    const add = sent.tools.find((t: any) => t.name === 'toolbox__add');
    assert.equal(add.input_schema.type, 'object');
    assert.ok(sent.tools.every((t: any) => /^[a-zA-Z0-9_-]+$/.test(t.name)));
    const turn = (await k.request('GET', `/api/turns/${done.data.turnId}`, { token: u.token })).body;
    assert.deepEqual([turn.model, turn.status, turn.input_tokens, turn.output_tokens], ['anthropic/claude-haiku-4-5', 'ok', 321, 9]);
  });
  test('prompt caching: cache_read_input_tokens and cache_creation_input_tokens are the turn\'s cache figures', async () => {
    const id = await newSession();
    fake.script({ text: ['cached'], usage: { input_tokens: 12, output_tokens: 3, cache_read_input_tokens: 2048, cache_creation_input_tokens: 512 } });
    const r = await say(id, 'long shared prefix');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.usage, { inputTokens: 12, outputTokens: 3, cacheReadTokens: 2048, cacheWriteTokens: 512 });
    const turn = (await k.request('GET', `/api/turns/${r.body.turnId}`, { token: u.token })).body;
    assert.deepEqual([turn.cache_read_tokens, turn.cache_write_tokens], [2048, 512]);
  });


  test('a tool_use block streamed as input_json_delta pieces runs the tool; its tool_result goes back and the answer follows', async () => {
    const id = await newSession();
    fake.script(
      { text: ['Let me add.'], toolUse: [{ id: 'toolu_01A', name: 'toolbox__add', json: ['{"a": 2', '0, "b"', ': 22}'] }] },
      { text: ['The sum is ', '42.'] },
    );
    const r = await say(id, 'what is 20 + 22?');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.text, 'The sum is 42.');
    assert.deepEqual(r.body.usage, { inputTokens: 50, outputTokens: 30 }, 'usage adds up over both calls');
    const tools = (await k.request('GET', `/api/turns/${r.body.turnId}/tools`, { token: u.token })).body.items;
    assert.deepEqual(tools.map((t: any) => [t.id, t.name, t.input, t.ok, t.output]), [['toolu_01A', 'toolbox.add', { a: 20, b: 22 }, true, 42]]);

    const second = fake.requests.at(-1);
    assert.deepEqual(second.messages, [
      { role: 'user', content: [{ type: 'text', text: 'what is 20 + 22?' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Let me add.' }, { type: 'tool_use', id: 'toolu_01A', name: 'toolbox__add', input: { a: 20, b: 22 } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01A', content: '42' }] },
    ]);
    // The stored history (tool call and result included) must still be a valid conversation next turn.
    fake.script({ text: ['Sure.'] });
    const next = await say(id, 'thanks');
    assert.equal(next.status, 200, next.text);
    assert.equal(next.body.text, 'Sure.');
    assert.deepEqual(fake.requests.at(-1).messages.map((m: any) => m.role), ['user', 'assistant', 'user', 'assistant', 'user']);
  });

  test('errors: an HTTP error body and a mid-stream error event are error frames with the session intact; a 400 does not trip the breaker, two 5xx-class failures do', async () => {
    const id = await newSession();
    fake.script({ status: 400, type: 'invalid_request_error', message: 'prompt is too long' });
    const bad = await say(id, 'one');
    assert.equal(bad.status, 502);
    assert.match(bad.body.error.message, /anthropic answered 400: prompt is too long/);
    assert.equal(breaker(await k.request('GET', '/api/breaker/status', { token: u.token })), 'closed');

    fake.script({ status: 529, type: 'overloaded_error', message: 'Overloaded' });
    const frames = await readSse(await stream(id, 'two'));
    assert.equal(frames.at(-1)!.event, 'error');
    assert.match(frames.at(-1)!.data.error.message, /anthropic answered 529: Overloaded/);

    fake.script({ midStreamError: 'Overloaded mid-stream', text: ['Part', 'ial'] });
    const cut = await readSse(await stream(id, 'three'));
    assert.deepEqual(cut.filter(f => f.event === 'chunk').map(f => f.data.text), ['Part', 'ial']);
    assert.equal(cut.at(-1)!.event, 'error');
    assert.match(cut.at(-1)!.data.error.message, /failed mid-stream: Overloaded mid-stream/);
    assert.equal(breaker(await k.request('GET', '/api/breaker/status', { token: u.token })), 'open');

    const calls = fake.requests.length;
    const refused = await say(id, 'four');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'PLINTH_ERR_BREAKER_OPEN');
    assert.equal(fake.requests.length, calls, 'an open breaker sends nothing upstream');

    const msgs = (await k.request('GET', `/api/sessions/${id}/messages`, { token: u.token })).body.items;
    assert.deepEqual(msgs.filter((m: any) => m.role === 'user').map((m: any) => m.content), ['one', 'two', 'three', 'four']);
    const partial = msgs.find((m: any) => m.role === 'assistant' && m.content === 'Partial');
    assert.ok(partial?.partial, 'what streamed before the error is kept, marked partial');
    assert.equal((await k.request('POST', '/api/breaker/reset/anthropic')).status, 200);
    fake.script({ text: ['back'] });
    assert.equal((await say(id, 'five')).body.text, 'back');
  });
});

function breaker(r: { body: any }): string {
  return r.body.items.find((b: any) => b.provider === 'anthropic' || b.name === 'anthropic')?.state;
}
