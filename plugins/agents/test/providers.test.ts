import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { readSse, startFakeOpenAi, type FakeOpenAi } from 'plinth/testing';

const AGENTS = join(__dirname, '..');
const TOOLBOX = join(__dirname, 'fixtures', 'toolbox');

describe('the openai provider against a scripted OpenAI-compatible server', () => {
  let k: TestKernel;
  let fake: FakeOpenAi;
  let t = Date.parse('2025-01-01T00:00:00Z');
  let u: { token: string };
  before(async () => {
    fake = await startFakeOpenAi();
    k = await createTestKernel({
      clock: { now: () => t },
      plugins: [{ path: TOOLBOX }, {
        path: AGENTS,
        config: { openai: { baseUrl: fake.baseUrl, model: 'fake-model' }, breaker: { failureThreshold: 2, cooldownMs: 10_000 }, prices: { 'openai/fake-model': { input: 1, output: 2 } } },
      }],
    });
    u = await k.createUser();
  });
  after(async () => { await k.stop(); await fake.close(); });

  const newSession = async (agent = 'assistant') => (await k.request('POST', '/api/sessions', { token: u.token, body: { agent } })).body.id as string;
  const stream = (id: string, message: string, signal?: AbortSignal) => fetch(`${k.baseUrl}/api/sessions/${id}/messages`, {
    method: 'POST', signal, headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ message }),
  });

  test('an OpenAI endpoint becomes the default model; text streams through; usage and cost are recorded', async () => {
    assert.equal((await k.request('GET', '/api/agent/status', { token: u.token })).body.defaultModel, 'openai/fake-model');
    const models = (await k.request('GET', '/api/models/available', { token: u.token })).body.items.map((m: any) => m.id);
    assert.deepEqual(models, ['builtin/echo', 'openai/fake-model']);
    const id = await newSession();
    fake.script({ text: ['Hel', 'lo ', 'world'], usage: { prompt_tokens: 1000, completion_tokens: 500 } });
    const frames = await readSse(await stream(id, 'hi'));
    assert.deepEqual(frames.filter(f => f.event === 'chunk').map(f => f.data.text), ['Hel', 'lo ', 'world']);
    const done = frames.at(-1)!;
    assert.equal(done.event, 'done');
    assert.deepEqual(done.data.usage, { inputTokens: 1000, outputTokens: 500 });
    const sent = fake.requests.at(-1);
    assert.equal(sent.model, 'fake-model');
    assert.equal(sent.stream, true);
    assert.deepEqual(sent.stream_options, { include_usage: true });
    assert.deepEqual(sent.messages.map((m: any) => m.role), ['system', 'user']);
    assert.ok(sent.tools.some((x: any) => x.function.name === 'toolbox__add'), 'tool names are made safe for the API');
    const turn = (await k.request('GET', `/api/turns/${done.data.turnId}`, { token: u.token })).body;
    assert.equal(turn.cost, (1000 * 1 + 500 * 2) / 1e6);
  });

  test('tool-call deltas split across chunks are joined, the tool runs, and its result goes back to the model', async () => {
    const id = await newSession();
    fake.script(
      { toolCalls: [{ id: 'call_a', name: 'toolbox__add', args: ['{"a":', ' 20, "b"', ': 22}'] }, { id: 'call_b', name: 'toolbox__add', args: ['{"a": "bad"}'] }] },
      { text: ['The answer is 42.'] },
    );
    const frames = await readSse(await stream(id, 'add please'));
    const chunks = frames.filter(f => f.event === 'chunk').map(f => f.data);
    assert.deepEqual(chunks.map(c => c.type), ['tool_call', 'tool_call', 'tool_result', 'tool_result', 'text']);
    assert.deepEqual(chunks[0].call, { id: 'call_a', name: 'toolbox.add', arguments: '{"a": 20, "b": 22}' });
    assert.deepEqual([chunks[2].ok, chunks[2].output], [true, 42]);
    assert.equal(chunks[3].ok, false);
    const second = fake.requests.at(-1);
    const tail = second.messages.slice(-3);
    assert.deepEqual(tail.map((m: any) => m.role), ['assistant', 'tool', 'tool']);
    assert.equal(tail[0].tool_calls[0].function.name, 'toolbox__add');
    assert.deepEqual([tail[1].tool_call_id, tail[1].content], ['call_a', '42']);
    assert.match(tail[2].content, /must be number/);
    assert.equal(frames.at(-1)!.data.message.content, 'The answer is 42.');
  });

  test('garbage, a cut stream and HTTP errors are error frames; the session stays usable; the breaker opens, half-opens and closes', async () => {
    const id = await newSession();
    fake.script({ garbage: '{{{ not json' });
    let frames = await readSse(await stream(id, 'one'));
    assert.equal(frames.at(-1)!.event, 'error');
    assert.equal(frames.at(-1)!.data.error.code, 'PLINTH_ERR_PROVIDER');
    assert.match(frames.at(-1)!.data.error.message, /not JSON/);
    fake.script({ status: 500, message: 'upstream exploded' });
    const json = await k.request('POST', `/api/sessions/${id}/messages`, { token: u.token, body: { message: 'two' } });
    assert.equal(json.status, 502);
    assert.match(json.body.error.message, /upstream exploded/);

    let status = (await k.request('GET', '/api/breaker/status', { token: u.token })).body.items.find((b: any) => b.provider === 'openai');
    assert.equal(status.state, 'open');
    const before = fake.requests.length;
    frames = await readSse(await stream(id, 'three'));
    assert.equal(frames.at(-1)!.data.error.code, 'PLINTH_ERR_BREAKER_OPEN');
    assert.equal(fake.requests.length, before, 'an open breaker sends nothing upstream');

    t += 10_001;
    status = (await k.request('GET', '/api/breaker/status', { token: u.token })).body.items.find((b: any) => b.provider === 'openai');
    assert.equal(status.state, 'half_open');
    fake.script({ cut: ['par', 'tial'] });
    frames = await readSse(await stream(id, 'four'));
    assert.match(frames.at(-1)!.data.error.message, /closed the stream before \[DONE\]|unreachable/);
    assert.equal((await k.request('GET', '/api/breaker/status', { token: u.token })).body.items.find((b: any) => b.provider === 'openai').state, 'open');

    t += 10_001;
    fake.script({ text: ['back'] });
    frames = await readSse(await stream(id, 'five'));
    assert.equal(frames.at(-1)!.event, 'done');
    assert.equal((await k.request('GET', '/api/breaker/status', { token: u.token })).body.items.find((b: any) => b.provider === 'openai').state, 'closed');

    const msgs = (await k.request('GET', `/api/sessions/${id}/messages`, { token: u.token })).body.items;
    assert.deepEqual(msgs.filter((m: any) => m.role === 'user').map((m: any) => m.content), ['one', 'two', 'three', 'four', 'five']);
    assert.equal(msgs.at(-1).content, 'back');
    // what a cut answer said before the cut is kept, marked partial
    const afterFour = msgs[msgs.findIndex((m: any) => m.content === 'four') + 1];
    assert.deepEqual([afterFour.role, afterFour.partial], ['assistant', true]);
    assert.ok('partial'.startsWith(afterFour.content));

    // by hand: admin only
    fake.script({ status: 503 }, { status: 503 });
    await k.request('POST', `/api/sessions/${id}/messages`, { token: u.token, body: { message: 'x' } });
    await k.request('POST', `/api/sessions/${id}/messages`, { token: u.token, body: { message: 'y' } });
    assert.equal((await k.request('POST', '/api/breaker/reset/openai', { token: u.token })).status, 403);
    assert.equal((await k.request('POST', '/api/breaker/reset/openai')).body.state, 'closed');
    assert.equal((await k.request('POST', '/api/breaker/reset/nope')).status, 404);
  });

  test('an agent falls back to its fallback models while its provider breaker is open', async () => {
    await k.request('POST', '/api/agents', { body: { name: 'resilient', model: 'openai/fake-model', fallback_models: ['builtin/echo'] } });
    const id = await newSession('resilient');
    fake.script({ status: 500 }, { status: 500 });
    // failing before any output, the call moves on to the fallback at once
    const first = await k.request('POST', `/api/sessions/${id}/messages`, { token: u.token, body: { message: 'still here' } });
    assert.equal(first.body.text, 'still here');
    await k.request('POST', `/api/sessions/${id}/messages`, { token: u.token, body: { message: 'again' } });
    const r = await k.request('POST', `/api/sessions/${id}/messages`, { token: u.token, body: { message: 'answered offline' } });
    assert.equal(r.body.text, 'answered offline');
    const sel = (await k.request('GET', `/api/turns/${r.body.turnId}/model-selection`, { token: u.token })).body;
    assert.equal(sel.model, 'builtin/echo');
    assert.match(sel.reason, /fallback: openai\/fake-model circuit breaker open/);
    await k.request('POST', '/api/breaker/reset/openai');
  });

  test('the client going away aborts the upstream request; the partial answer is stored and marked', async () => {
    const id = await newSession();
    fake.script({ stall: ['so far ', 'so good'] });
    const ac = new AbortController();
    const res = await stream(id, 'tell me a long story', ac.signal);
    const got = await readSse(res, f => f.event === 'chunk' && f.data.text === 'so good', ac);
    assert.equal(got.length, 3);
    for (let i = 0; i < 100 && fake.aborted < 1; i++) await new Promise(r => setTimeout(r, 20));
    assert.equal(fake.aborted, 1, 'the upstream stream was closed');
    let msgs: any[] = [];
    for (let i = 0; i < 100; i++) {
      msgs = (await k.request('GET', `/api/sessions/${id}/messages`, { token: u.token })).body.items;
      if (!(await k.request('GET', `/api/sessions/${id}`, { token: u.token })).body.busy) break;
      await new Promise(r => setTimeout(r, 20));
    }
    msgs = (await k.request('GET', `/api/sessions/${id}/messages`, { token: u.token })).body.items;
    assert.deepEqual([msgs[1].role, msgs[1].content, msgs[1].partial], ['assistant', 'so far so good', true]);
    const turns = (await k.request('GET', `/api/sessions/${id}/turns`, { token: u.token })).body.items;
    assert.equal(turns[0].status, 'partial');
    // the stored frames end with a partial done: a reconnect sees how it ended
    const rest = await readSse(await fetch(`${k.baseUrl}/api/sessions/${id}/stream`, { headers: { authorization: `Bearer ${u.token}`, 'last-event-id': '3' } }));
    assert.deepEqual(rest.map(f => [f.event, f.data.partial]), [['done', true]]);
  });

  test('provider keys: admin only, encrypted at rest with a 0600 key file, sent upstream, never returned', async () => {
    const secret = 'sk-test-' + 'x'.repeat(20);
    assert.equal((await k.request('PUT', '/api/providers/openai/key', { token: u.token, body: { apiKey: secret } })).status, 403);
    assert.equal((await k.request('PUT', '/api/providers/builtin/key', { body: { apiKey: secret } })).status, 404);
    assert.equal((await k.request('PUT', '/api/providers/openai/key', { body: {} })).status, 400);
    const put = await k.request('PUT', '/api/providers/openai/key', { body: { apiKey: secret } });
    assert.deepEqual(put.body, { provider: 'openai', keyStored: true });
    const list = await k.request('GET', '/api/providers', { token: u.token });
    assert.ok(!list.text.includes(secret));
    assert.equal(list.body.items.find((p: any) => p.name === 'openai').keyStored, true);
    const keyFile = join(k.dataDir, 'plugins', 'agents', 'provider-keys.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const db = readFileSync(join(k.dataDir, 'plinth.db'));
    assert.ok(!db.includes(Buffer.from(secret)), 'the key is not in the database in clear');
    await k.request('POST', '/api/agent/message', { token: u.token, body: { message: 'with key' } });
    assert.equal(fake.headers.at(-1)!.authorization, `Bearer ${secret}`);
    assert.equal((await k.request('DELETE', '/api/providers/openai/key')).status, 204);
    assert.equal((await k.request('DELETE', '/api/providers/openai/key')).status, 404);
    await k.request('POST', '/api/agent/message', { token: u.token, body: { message: 'without key' } });
    assert.equal(fake.headers.at(-1)!.authorization, undefined);
  });
});
