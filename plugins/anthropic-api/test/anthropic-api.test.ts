import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { startFakeAnthropic, type FakeAnthropic } from 'plinth/testing';

const AGENTS = join(__dirname, '..', '..', 'agents');
const ANTHROPIC_API = join(__dirname, '..');
const TOOLBOX = join(__dirname, '..', '..', 'agents', 'test', 'fixtures', 'toolbox');
const UPSTREAM_KEY = 'sk-ant-upstream';

/** The raw SSE events of a streamed answer, in order. */
async function sseEvents(res: Response): Promise<Array<{ event: string; data: any }>> {
  const text = await res.text();
  return text.split('\n\n').filter(f => f.trim()).map(frame => {
    const event = /^event: (.*)$/m.exec(frame)?.[1] ?? '';
    const data = /^data: (.*)$/m.exec(frame)?.[1];
    return { event, data: data ? JSON.parse(data) : undefined };
  });
}

// No storage of its own, but stats and agent turns are recorded: both databases.
const dialects = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] as const : ['sqlite'] as const;

for (const database of dialects) describe(`/anthropic/v1 with the official @anthropic-ai/sdk client (${database})`, () => {
  let k: TestKernel;
  let fake: FakeAnthropic;
  let client: Anthropic;
  let token: string;
  before(async () => {
    fake = await startFakeAnthropic({ apiKey: UPSTREAM_KEY });
    k = await createTestKernel({
      database,
      plugins: [{ path: TOOLBOX }, { path: AGENTS, config: { anthropic: { baseUrl: fake.baseUrl, apiKey: UPSTREAM_KEY, models: ['claude-haiku-4-5'], maxTokens: 512 } } }, { path: ANTHROPIC_API }],
    });
    token = (await k.createUser()).token;
    client = new Anthropic({ baseURL: `${k.baseUrl}/anthropic`, apiKey: token, maxRetries: 0 });
  });
  after(async () => { await k.stop(); await fake.close(); });

  test('models lists provider models and shared agents', async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids.sort(), ['agent/assistant', 'anthropic/claude-haiku-4-5', 'builtin/echo']);
  });

  test('a message, not streamed, with system, max_tokens and usage', async () => {
    const r = await client.messages.create({ model: 'builtin/echo', max_tokens: 100, system: 'be kind', messages: [{ role: 'user', content: 'ping pong' }] });
    assert.equal(r.type, 'message');
    assert.equal(r.role, 'assistant');
    assert.deepEqual(r.content, [{ type: 'text', text: 'ping pong' }]);
    assert.equal(r.stop_reason, 'end_turn');
    assert.deepEqual(r.usage, { input_tokens: 4, output_tokens: 2 });
  });

  test('streamed with messages.stream(): the documented event sequence, text and final message', async () => {
    const stream = client.messages.stream({ model: 'builtin/echo', max_tokens: 100, messages: [{ role: 'user', content: 'one two three' }] });
    let text = '';
    stream.on('text', t => { text += t; });
    const final = await stream.finalMessage();
    assert.equal(text, 'one two three');
    assert.deepEqual(final.content, [{ type: 'text', text: 'one two three' }]);
    assert.equal(final.stop_reason, 'end_turn');
    assert.deepEqual(final.usage, { input_tokens: 3, output_tokens: 3 });

    const res = await fetch(`${k.baseUrl}/anthropic/v1/messages`, {
      method: 'POST', headers: { 'x-api-key': token, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'builtin/echo', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'a b' }] }),
    });
    assert.equal(res.headers.get('content-type')?.split(';')[0], 'text/event-stream');
    const events = await sseEvents(res);
    assert.deepEqual(events.map(e => e.event), ['message_start', 'ping', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    assert.ok(events.every(e => e.data.type === e.event), 'each data carries its event type');
  });

  test('tool round trip: a tool_use for the caller to run, then its tool_result is used; streamed too', async () => {
    const tools = [{ name: 'lookup', description: 'looks up', input_schema: { type: 'object' as const, properties: { q: { type: 'string' } } } }];
    const first = await client.messages.create({ model: 'builtin/echo', max_tokens: 100, tools, messages: [{ role: 'user', content: '/tool lookup {"q":"plinth"}' }] });
    assert.equal(first.stop_reason, 'tool_use');
    const use = first.content.find(b => b.type === 'tool_use') as Anthropic.ToolUseBlock;
    assert.deepEqual([use.name, use.input], ['lookup', { q: 'plinth' }]);
    const second = await client.messages.create({
      model: 'builtin/echo', max_tokens: 100, tools, messages: [
        { role: 'user', content: '/tool lookup {"q":"plinth"}' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'a kernel' }] },
      ],
    });
    assert.deepEqual(second.content, [{ type: 'text', text: 'lookup returned a kernel' }]);

    const streamed = await client.messages.stream({ model: 'builtin/echo', max_tokens: 100, tools, messages: [{ role: 'user', content: '/tool lookup {"q":1}' }] }).finalMessage();
    assert.equal(streamed.stop_reason, 'tool_use');
    assert.deepEqual((streamed.content[0] as Anthropic.ToolUseBlock).input, { q: 1 });
  });

  test('agent/<name> runs the agent loop with its own tools; streamed too', async () => {
    const r = await client.messages.create({ model: 'agent/assistant', max_tokens: 100, messages: [{ role: 'user', content: 'earlier' }, { role: 'assistant', content: 'earlier' }, { role: 'user', content: '/tool toolbox.add {"a": 3, "b": 4}' }] });
    assert.deepEqual(r.content, [{ type: 'text', text: 'toolbox.add returned 7' }]);
    let text = '';
    await client.messages.stream({ model: 'agent/assistant', max_tokens: 100, messages: [{ role: 'user', content: 'agent streams' }] }).on('text', t => { text += t; }).done();
    assert.equal(text, 'agent streams');
  });

  test('a provider model is proxied to the Anthropic upstream, streamed and not, tools included', async () => {
    fake.script({ text: ['Hel', 'lo'], usage: { input_tokens: 30, output_tokens: 2 } });
    const plain = await client.messages.create({ model: 'anthropic/claude-haiku-4-5', max_tokens: 64, system: 'terse', messages: [{ role: 'user', content: 'hi' }] });
    assert.deepEqual(plain.content, [{ type: 'text', text: 'Hello' }]);
    assert.deepEqual(plain.usage, { input_tokens: 30, output_tokens: 2 });
    const sent = fake.requests.at(-1);
    assert.deepEqual([sent.model, sent.max_tokens, sent.system], ['claude-haiku-4-5', 64, 'terse']);

    fake.script({ text: ['Adding.'], toolUse: [{ id: 'toolu_01', name: 'add', json: ['{"a": 2', ', "b": 3}'] }] });
    const tools = [{ name: 'add', description: 'adds', input_schema: { type: 'object' as const, properties: { a: { type: 'number' }, b: { type: 'number' } } } }];
    const streamed = await client.messages.stream({ model: 'anthropic/claude-haiku-4-5', max_tokens: 64, tools, messages: [{ role: 'user', content: 'add 2 and 3' }] }).finalMessage();
    assert.equal(streamed.stop_reason, 'tool_use');
    assert.deepEqual(streamed.content, [{ type: 'text', text: 'Adding.' }, { type: 'tool_use', id: 'toolu_01', name: 'add', input: { a: 2, b: 3 } }]);

    fake.script({ text: ['5'] });
    const answered = await client.messages.create({
      model: 'anthropic/claude-haiku-4-5', max_tokens: 64, tools, messages: [
        { role: 'user', content: 'add 2 and 3' }, { role: 'assistant', content: streamed.content as any },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: [{ type: 'text', text: '5' }] }] },
      ],
    });
    assert.deepEqual(answered.content, [{ type: 'text', text: '5' }]);
    // The upstream accepted the conversation (it refuses a tool_result without its tool_use).
    const last = fake.requests.at(-1);
    assert.deepEqual(last.messages.at(-1).content, [{ type: 'tool_result', tool_use_id: 'toolu_01', content: '5' }]);

    fake.script({ status: 529, type: 'overloaded_error', message: 'Overloaded' });
    await assert.rejects(client.messages.create({ model: 'anthropic/claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'x' }] }), (e: any) => e instanceof Anthropic.APIError && e.status >= 500 && e.error?.type === 'error');
  });

  test('count_tokens estimates the conversation, tools and system', async () => {
    const small = await client.messages.countTokens({ model: 'builtin/echo', messages: [{ role: 'user', content: 'hi' }] });
    const big = await client.messages.countTokens({ model: 'agent/assistant', system: 'x'.repeat(400), messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(small.input_tokens, 1);
    assert.equal(big.input_tokens, 101);
    await assert.rejects(client.messages.countTokens({ model: 'nowhere/x', messages: [{ role: 'user', content: 'x' }] }), Anthropic.NotFoundError);
  });

  test('errors come in Anthropic\'s shape and as the client\'s typed errors', async () => {
    const msg = (model: string, extra: Record<string, unknown> = {}) => client.messages.create({ model, max_tokens: 10, messages: [{ role: 'user', content: 'x' }], ...extra } as any);
    await assert.rejects(msg('nowhere/x'), (e: any) => e instanceof Anthropic.NotFoundError && (e.error as any).error.type === 'not_found_error');
    await assert.rejects(client.messages.stream({ model: 'nowhere/x', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).finalMessage(), Anthropic.NotFoundError);
    await assert.rejects(msg('agent/ghost'), Anthropic.NotFoundError);
    await assert.rejects(msg('builtin/echo', { max_tokens: undefined }), (e: any) => e instanceof Anthropic.BadRequestError && /max_tokens/.test(e.message));
    await assert.rejects(msg('builtin/echo', { messages: [{ role: 'system', content: 'x' }] }), (e: any) => e instanceof Anthropic.BadRequestError && /messages\.0\.role/.test(e.message));
    await assert.rejects(msg('builtin/echo', { messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'nope', content: 'x' }] }] }), Anthropic.BadRequestError);
    await assert.rejects(msg('builtin/echo', { tools: [{ name: 'has.dot', input_schema: { type: 'object' } }] }), Anthropic.BadRequestError);

    const wrong = new Anthropic({ baseURL: `${k.baseUrl}/anthropic`, apiKey: 'plt_wrong', maxRetries: 0 });
    await assert.rejects(wrong.messages.create({ model: 'builtin/echo', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }), Anthropic.AuthenticationError);
    await assert.rejects(wrong.models.list(), Anthropic.AuthenticationError);
    // The same call with the right key works (above); a bearer token is accepted too.
    const bearer = await fetch(`${k.baseUrl}/anthropic/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'builtin/echo', max_tokens: 5, messages: [{ role: 'user', content: 'yes' }] }) });
    assert.equal(bearer.status, 200);
    const anon = await fetch(`${k.baseUrl}/anthropic/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(anon.status, 401);
    assert.deepEqual(await anon.json(), { type: 'error', error: { type: 'authentication_error', message: 'x-api-key header is required (a Plinth API token)' } });
  });

  test('proxied calls are recorded for stats', async () => {
    const costs = (await k.request('GET', '/api/stats/costs')).body;
    assert.ok(costs.items.find((i: any) => i.model === 'builtin/echo').turns >= 4);
    assert.ok(costs.items.find((i: any) => i.model === 'anthropic/claude-haiku-4-5').turns >= 3);
  });
});
