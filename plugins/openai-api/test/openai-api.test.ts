import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import OpenAI from 'openai';
import { createTestKernel, type TestKernel } from 'plinth/testing';

const AGENTS = join(__dirname, '..', '..', 'agents');
const OPENAI_API = join(__dirname, '..');
const TOOLBOX = join(__dirname, '..', '..', 'agents', 'test', 'fixtures', 'toolbox');

describe('/v1 with the official openai client', () => {
  let k: TestKernel;
  let client: OpenAI;
  before(async () => {
    k = await createTestKernel({ plugins: [{ path: TOOLBOX }, { path: AGENTS }, { path: OPENAI_API }] });
    const u = await k.createUser();
    client = new OpenAI({ baseURL: `${k.baseUrl}/v1`, apiKey: u.token, maxRetries: 0 });
  });
  after(() => k.stop());

  test('models lists provider models and shared agents', async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids, ['builtin/echo', 'agent/assistant']);
  });

  test('a completion, not streamed, with usage', async () => {
    const r = await client.chat.completions.create({ model: 'builtin/echo', messages: [{ role: 'system', content: 'be kind' }, { role: 'user', content: 'ping pong' }] });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices[0].message.content, 'ping pong');
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.deepEqual(r.usage, { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 });
  });

  test('streamed, with stream_options.include_usage', async () => {
    const stream = await client.chat.completions.create({ model: 'builtin/echo', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'one two three' }] });
    let text = '';
    let usage: any;
    let finish: string | null = null;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) text += chunk.choices[0].delta.content;
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'one two three');
    assert.equal(finish, 'stop');
    assert.deepEqual(usage, { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 });
  });

  test('tools: a proxied model answers with tool_calls for the caller to run, then uses the result', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'lookup', description: 'looks up', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }];
    const first = await client.chat.completions.create({ model: 'builtin/echo', tools, messages: [{ role: 'user', content: '/tool lookup {"q":"plinth"}' }] });
    assert.equal(first.choices[0].finish_reason, 'tool_calls');
    const call = first.choices[0].message.tool_calls![0] as any;
    assert.deepEqual([call.type, call.function.name, JSON.parse(call.function.arguments)], ['function', 'lookup', { q: 'plinth' }]);
    const second = await client.chat.completions.create({
      model: 'builtin/echo', tools, messages: [
        { role: 'user', content: '/tool lookup {"q":"plinth"}' }, first.choices[0].message as any,
        { role: 'tool', tool_call_id: call.id, content: 'a kernel' },
      ],
    });
    assert.equal(second.choices[0].message.content, 'tool returned a kernel');
    const streamed = await client.chat.completions.create({ model: 'builtin/echo', tools, stream: true, messages: [{ role: 'user', content: '/tool lookup {"q":1}' }] });
    const deltas: any[] = [];
    for await (const c of streamed) deltas.push(c.choices[0]);
    assert.equal(deltas.at(-1).finish_reason, 'tool_calls');
    assert.equal(deltas.find(d => d.delta.tool_calls)?.delta.tool_calls[0].function.name, 'lookup');
  });

  test('agent/<name> runs the agent loop with its own tools and the history the caller sends', async () => {
    const r = await client.chat.completions.create({ model: 'agent/assistant', messages: [{ role: 'user', content: 'earlier' }, { role: 'assistant', content: 'earlier' }, { role: 'user', content: '/tool toolbox.add {"a": 3, "b": 4}' }] });
    assert.equal(r.choices[0].message.content, 'toolbox.add returned 7');
    const stream = await client.chat.completions.create({ model: 'agent/assistant', stream: true, messages: [{ role: 'user', content: 'agent streams' }] });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    assert.equal(text, 'agent streams');
  });

  test('errors come in OpenAI shape and as the client\'s typed errors', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'nowhere/x', messages: [{ role: 'user', content: 'x' }] }), (e: any) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
    await assert.rejects(client.chat.completions.create({ model: 'agent/ghost', messages: [{ role: 'user', content: 'x' }] }), (e: any) => e.status === 404);
    await assert.rejects(client.chat.completions.create({ model: 'builtin/echo', messages: [] }), (e: any) => e instanceof OpenAI.BadRequestError && e.param === 'messages');
    await assert.rejects(client.chat.completions.create({ model: 'builtin/echo', messages: [{ role: 'wizard', content: 'x' }] as any }), OpenAI.BadRequestError);
    const anon = new OpenAI({ baseURL: `${k.baseUrl}/v1`, apiKey: 'plt_wrong', maxRetries: 0 });
    await assert.rejects(anon.models.list(), (e: any) => e instanceof OpenAI.AuthenticationError && e.code === 'invalid_api_key');
    const raw = await fetch(`${k.baseUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(raw.status, 401);
    const body = await raw.json() as any;
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  });

  test('proxied calls are recorded for stats', async () => {
    const costs = (await k.request('GET', '/api/stats/costs')).body;
    assert.ok(costs.items.find((i: any) => i.model === 'builtin/echo').turns >= 4);
  });
});
