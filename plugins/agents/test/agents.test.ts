import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ToolPolicyService } from 'plinth/sdk';
import { createTestKernel, mockServices, type TestKernel } from 'plinth/testing';
import { readSse } from 'plinth/testing';

const AGENTS = join(__dirname, '..');
const TOOLBOX = join(__dirname, 'fixtures', 'toolbox');

describe('agents on the builtin provider (offline)', () => {
  let k: TestKernel;
  let u: { token: string; user: { id: string } };
  const asked: string[] = [];
  const gate: ToolPolicyService = {
    async request({ tool, input }) {
      asked.push(tool);
      return (input as any).n > 5 ? { approved: false, reason: 'too many', requestId: 'apr_1' } : { approved: true };
    },
  };
  before(async () => {
    k = await createTestKernel({ plugins: [{ path: TOOLBOX }, { path: AGENTS }], services: [mockServices.toolPolicy(gate)] });
    u = await k.createUser();
  });
  after(() => k.stop());

  const session = async (token = u.token, agent = 'assistant') => (await k.request('POST', '/api/sessions', { token, body: { agent } })).body;
  const say = (id: string, message: string, token = u.token) => k.request('POST', `/api/sessions/${id}/messages`, { token, body: { message } });

  test('the default agent echoes on builtin/echo and every message is stored', async () => {
    const s = await session();
    assert.match(s.id, /^ses_/);
    const r = await say(s.id, 'hello there plinth');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.text, 'hello there plinth');
    assert.equal(r.body.partial, false);
    assert.equal(r.body.usage.outputTokens, 3);
    assert.ok(r.body.usage.inputTokens > 3, 'the instructions count as input');
    const msgs = (await k.request('GET', `/api/sessions/${s.id}/messages`, { token: u.token })).body.items;
    assert.deepEqual(msgs.map((m: any) => [m.role, m.content, m.partial]), [['user', 'hello there plinth', false], ['assistant', 'hello there plinth', false]]);
    const turn = (await k.request('GET', `/api/turns/${r.body.turnId}`, { token: u.token })).body;
    assert.equal(turn.model, 'builtin/echo');
    assert.equal(turn.status, 'ok');
    const sel = (await k.request('GET', `/api/turns/${r.body.turnId}/model-selection`, { token: u.token })).body;
    assert.match(sel.reason, /default model/);
    const ctx = (await k.request('GET', `/api/turns/${r.body.turnId}/context`, { token: u.token })).body.items;
    assert.deepEqual(ctx.map((m: any) => m.role), ['system', 'user']);
  });

  test('/tool runs a tool from the registry and the model sees its result', async () => {
    const s = await session();
    const r = await say(s.id, '/tool toolbox.add {"a": 2, "b": 40}');
    assert.equal(r.body.text, 'toolbox.add returned 42');
    const tools = (await k.request('GET', `/api/turns/${r.body.turnId}/tools`, { token: u.token })).body.items;
    assert.equal(tools.length, 1);
    assert.deepEqual([tools[0].name, tools[0].input, tools[0].ok, tools[0].output], ['toolbox.add', { a: 2, b: 40 }, true, 42]);
    assert.equal(typeof tools[0].durationMs, 'number');
  });

  test('bad tool arguments, bad JSON, unknown and crashing tools come back to the model, never a 500', async () => {
    const s = await session();
    const cases: Array<[string, RegExp]> = [
      ['/tool toolbox.add {"a": "x", "b": 1}', /input\/a must be number/],
      ['/tool toolbox.add {not json', /not valid JSON/],
      ['/tool nope.tool {}', /not found|not available/],
      ['/tool toolbox.crash {}', /the tool broke/],
    ];
    for (const [message, expected] of cases) {
      const r = await say(s.id, message);
      assert.equal(r.status, 200, r.text);
      assert.match(r.body.text, expected);
      const t = (await k.request('GET', `/api/turns/${r.body.turnId}/tools`, { token: u.token })).body.items[0];
      assert.equal(t.ok, false);
      assert.match(t.output.error, expected);
    }
  });

  test('a gated tool asks the approvals gate; a denial is a tool error the model sees', async () => {
    const s = await session();
    const ok = await say(s.id, '/tool toolbox.launch {"n": 2}');
    assert.equal(ok.body.text, 'toolbox.launch returned {"launched":2}');
    const denied = await say(s.id, '/tool toolbox.launch {"n": 9}');
    assert.equal(denied.status, 200);
    assert.match(denied.body.text, /not approved: too many/);
    assert.deepEqual(asked, ['toolbox.launch', 'toolbox.launch']);
    assert.deepEqual((await k.request('GET', '/api/toolbox/launched', { token: null })).body, { launched: 2 });
  });

  test('SSE: message, chunks with tool call and result, then done; frames resume after Last-Event-ID', async () => {
    const s = await session();
    const res = await fetch(`${k.baseUrl}/api/sessions/${s.id}/messages`, {
      method: 'POST', headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ message: '/tool toolbox.add {"a": 1, "b": 1}' }),
    });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const frames = await readSse(res);
    assert.deepEqual(frames.map(f => f.event), ['message', 'chunk', 'chunk', 'chunk', 'chunk', 'chunk', 'done']);
    assert.deepEqual(frames.map(f => Number(f.id)), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(frames.slice(1, 6).map(f => f.data.type), ['tool_call', 'tool_result', 'text', 'text', 'text']);
    assert.equal(frames[2].data.output, 2);
    assert.equal(frames.slice(3, 6).map(f => f.data.text).join(''), 'toolbox.add returned 2');
    assert.equal(frames[6].data.message.content, 'toolbox.add returned 2');

    // A client that saw frame 2 reconnects: the rest come from the stored log, identical.
    const resumed = await readSse(await fetch(`${k.baseUrl}/api/sessions/${s.id}/stream`, { headers: { authorization: `Bearer ${u.token}`, 'last-event-id': '2' } }));
    assert.deepEqual(resumed, frames.slice(2));
    const viaPost = await readSse(await fetch(`${k.baseUrl}/api/sessions/${s.id}/messages`, {
      method: 'POST', headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json', 'last-event-id': '4' }, body: JSON.stringify({ message: 'ignored on resume' }),
    }));
    assert.deepEqual(viaPost, frames.slice(4));
    // Nothing after the last frame: 204, so that a browser EventSource stops reconnecting.
    assert.equal((await fetch(`${k.baseUrl}/api/sessions/${s.id}/stream`, { headers: { authorization: `Bearer ${u.token}`, 'last-event-id': '7' } })).status, 204);
    assert.equal((await k.request('GET', `/api/sessions/${s.id}/stream?last_event_id=abc`, { token: u.token })).status, 400);

    const replay = (await k.request('GET', `/api/sessions/${s.id}/replay`, { token: u.token })).body.items;
    assert.deepEqual(replay.map((f: any) => f.event), ['message', 'chunk', 'chunk', 'chunk', 'done']);
    assert.deepEqual(replay.map((f: any) => f.data.type ?? null), [null, 'tool_call', 'tool_result', 'text', null]);
    assert.equal(replay[4].data.message.content, 'toolbox.add returned 2');
    assert.equal(replay[3].data.text, 'toolbox.add returned 2');
    // the messages were not duplicated by the resume through POST
    assert.equal((await k.request('GET', `/api/sessions/${s.id}/messages`, { token: u.token })).body.items.length, 4);
  });

  test('one-shot /api/agent/message and /stream, and status', async () => {
    const r = await k.request('POST', '/api/agent/message', { token: u.token, body: { message: 'one shot' } });
    assert.equal(r.body.text, 'one shot');
    const again = await k.request('POST', '/api/agent/message', { token: u.token, body: { message: 'same session', sessionId: r.body.sessionId } });
    assert.equal(again.body.sessionId, r.body.sessionId);
    const res = await fetch(`${k.baseUrl}/api/agent/message/stream`, { method: 'POST', headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ message: 'streamed once' }) });
    const frames = await readSse(res);
    assert.equal(frames.at(-1)!.event, 'done');
    assert.equal(frames.filter(f => f.event === 'chunk').map(f => f.data.text).join(''), 'streamed once');
    const status = (await k.request('GET', '/api/agent/status', { token: u.token })).body;
    assert.equal(status.defaultModel, 'builtin/echo');
    assert.deepEqual(status.providers, ['anthropic', 'builtin', 'openai']);
    assert.equal((await k.request('POST', '/api/agent/message', { token: u.token, body: { message: 'x', agent: 'ghost' } })).status, 404);
  });

  test('sessions are private: another user gets 404; lists are paginated; bad input is 400', async () => {
    const s = await session();
    await say(s.id, 'mine');
    const other = await k.createUser();
    for (const [m, p] of [['GET', `/api/sessions/${s.id}`], ['GET', `/api/sessions/${s.id}/messages`], ['POST', `/api/sessions/${s.id}/messages`], ['DELETE', `/api/sessions/${s.id}`], ['GET', `/api/sessions/${s.id}/turns`]] as const) {
      const r = await k.request(m, p, { token: other.token, body: m === 'POST' ? { message: 'x' } : undefined });
      assert.equal(r.status, 404, `${m} ${p}`);
    }
    assert.equal((await k.request('GET', `/api/sessions?limit=1`, { token: other.token })).body.items.length, 0);
    const page1 = (await k.request('GET', '/api/sessions?limit=2', { token: u.token })).body;
    assert.equal(page1.items.length, 2);
    const page2 = (await k.request('GET', `/api/sessions?limit=2&cursor=${page1.nextCursor}`, { token: u.token })).body;
    assert.ok(page2.items.length >= 1);
    assert.ok(!page2.items.some((x: any) => page1.items.some((y: any) => y.id === x.id)));
    assert.equal((await k.request('POST', '/api/sessions', { token: u.token, body: { agent: 'nobody' } })).status, 404);
    const badModel = await k.request('POST', '/api/sessions', { token: u.token, body: { agent: 'assistant', model: 'nowhere/x' } });
    assert.equal(badModel.status, 404);
    assert.match(badModel.body.error.message, /no provider "nowhere"/);
    assert.equal((await k.request('POST', `/api/sessions/${s.id}/messages`, { token: u.token, body: { message: '' } })).status, 400);
    assert.equal((await k.request('POST', `/api/sessions/${s.id}/messages`, { token: u.token, body: { text: 'x' } })).status, 400);
    const unknownModel = await k.request('POST', '/api/sessions', { token: u.token, body: { agent: 'assistant', model: 'builtin/nope' } });
    const bad = await say(unknownModel.body.id, 'hi');
    assert.equal(bad.status, 404);
    assert.match(bad.body.error.message, /builtin has one model/);
    assert.equal((await k.request('DELETE', `/api/sessions/${s.id}`, { token: u.token })).status, 204);
    assert.equal((await k.request('GET', `/api/sessions/${s.id}`, { token: u.token })).status, 404);
  });

  test('agents CRUD, roster and ownership', async () => {
    const created = await k.request('POST', '/api/agents', { token: u.token, body: { name: 'helper', model: 'builtin/echo', instructions: 'Be brief.', allowed_tools: ['toolbox.add'], max_turns: 3 } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.owner, u.user.id);
    assert.equal(created.body.max_turns, 3);
    assert.equal((await k.request('POST', '/api/agents', { token: u.token, body: { name: 'helper' } })).status, 409);
    // Spaces inside a name are allowed (the coding-agent runner's names); not at its ends.
    assert.equal((await k.request('POST', '/api/agents', { token: u.token, body: { name: 'x y' } })).status, 201);
    assert.equal((await k.request('POST', '/api/agents', { token: u.token, body: { name: 'x y ' } })).status, 400);
    assert.equal((await k.request('POST', '/api/agents', { token: u.token, body: { name: 'coder', kind: 'cli' } })).status, 400);
    assert.equal((await k.request('POST', '/api/agents', { token: u.token, body: { name: 'coder', kind: 'cli', cli_name: 'claude-code' } })).status, 201);
    assert.equal((await k.request('POST', '/api/sessions', { token: u.token, body: { agent: 'coder' } })).status, 422);
    const other = await k.createUser();
    assert.equal((await k.request('GET', '/api/agents/helper', { token: other.token })).status, 404);
    assert.deepEqual((await k.request('GET', '/api/agents', { token: other.token })).body.items.map((a: any) => a.name), ['assistant']);
    assert.equal((await k.request('PUT', '/api/agents/assistant', { token: u.token, body: { instructions: 'hijack' } })).status, 403);

    // allowed_tools limits what the agent can call: toolbox.launch is not in the list
    const s = await session(u.token, 'helper');
    const r = await say(s.id, '/tool toolbox.launch {"n": 1}');
    assert.match(r.body.text, /not available to this agent/);

    const roster = (await k.request('GET', '/api/roster', { token: u.token })).body.items;
    assert.deepEqual(roster.find((a: any) => a.name === 'assistant'), { name: 'assistant', kind: 'llm', role: 'assistant', model: 'default', resolvedModel: 'builtin/echo', fallback_models: [], cli_name: null });
    const changed = await k.request('PUT', '/api/roster/helper/model', { token: u.token, body: { model: 'openai/gpt-4o-mini' } });
    assert.deepEqual(changed.body, { name: 'helper', model: 'openai/gpt-4o-mini', resolvedModel: 'openai/gpt-4o-mini' });
    assert.equal((await k.request('PUT', '/api/roster/helper/model', { token: u.token, body: { model: 'mars/rover' } })).status, 404);
    assert.equal((await k.request('DELETE', '/api/agents/helper', { token: other.token })).status, 404);
    assert.equal((await k.request('DELETE', '/api/agents/helper', { token: u.token })).status, 204);
    const models = (await k.request('GET', '/api/models/available', { token: u.token })).body;
    assert.deepEqual(models.items.map((m: any) => m.id), ['builtin/echo']);
  });

  test('max_turns ends a tool loop as partial', async () => {
    await k.request('POST', '/api/agents', { token: u.token, body: { name: 'looper', model: 'builtin/echo', allowed_tools: ['*'], max_turns: 1 } });
    const s = await session(u.token, 'looper');
    const r = await say(s.id, '/tool toolbox.add {"a": 1, "b": 2}');
    assert.equal(r.body.partial, true);
    assert.equal((await k.request('GET', `/api/turns/${r.body.turnId}`, { token: u.token })).body.status, 'partial');
  });

  test('events on the bus: session created, messages, tool called, turn completed (owner = the user)', async () => {
    const seen: any[] = [];
    const off = k.events.subscribe('agent.*', e => { seen.push(e); });
    const s = await session();
    await say(s.id, '/tool toolbox.add {"a": 1, "b": 2}');
    await new Promise(r => setTimeout(r, 50));
    await off();
    const mine = seen.filter(e => e.payload.session?.id === s.id || e.payload.sessionId === s.id);
    assert.deepEqual(mine.map(e => e.topic), ['agent.session.created', 'agent.message.added', 'agent.tool.called', 'agent.message.added', 'agent.turn.completed']);
    assert.ok(mine.every(e => e.owner === u.user.id));
    assert.equal(mine[2].payload.tool, 'toolbox.add');
    assert.equal(mine[4].payload.text, 'toolbox.add returned 3');
  });

  test('attachments: upload, owner-only download, type and size checks, referenced by a message', async () => {
    const up = await k.request('POST', '/api/attachments?filename=notes.txt', { token: u.token, raw: 'some notes', headers: { 'content-type': 'text/plain' } });
    assert.equal(up.status, 201, up.text);
    assert.equal(up.body.size, 10);
    const get = await fetch(`${k.baseUrl}/api/attachments/${up.body.id}`, { headers: { authorization: `Bearer ${u.token}` } });
    assert.match(get.headers.get('content-type')!, /^text\/plain/);
    assert.equal(await get.text(), 'some notes');
    const other = await k.createUser();
    assert.equal((await k.request('GET', `/api/attachments/${up.body.id}`, { token: other.token })).status, 404);
    assert.equal((await k.request('POST', '/api/attachments', { token: u.token, raw: 'x', headers: { 'content-type': 'application/x-msdownload' } })).status, 415);
    assert.equal((await k.request('POST', '/api/attachments', { token: u.token, raw: '', headers: { 'content-type': 'text/plain' } })).status, 400);
    const s = await session();
    const r = await k.request('POST', `/api/sessions/${s.id}/messages`, { token: u.token, body: { message: 'see file', attachments: [up.body.id] } });
    assert.equal(r.status, 200);
    const msgs = (await k.request('GET', `/api/sessions/${s.id}/messages`, { token: u.token })).body.items;
    assert.deepEqual(msgs[0].attachments, [up.body.id]);
    // The model sees a text attachment's content, and only a description of a binary one.
    const png = await k.request('POST', '/api/attachments?filename=dot.png', { token: u.token, raw: Buffer.from('89504e470d0a1a0a', 'hex'), headers: { 'content-type': 'image/png' } });
    assert.equal(png.status, 201);
    const both = await k.request('POST', `/api/sessions/${s.id}/messages`, { token: u.token, body: { message: 'both files', attachments: [up.body.id, png.body.id] } });
    assert.equal(both.status, 200);
    const turnId = both.body.turnId ?? both.body.turn?.id ?? both.body.message?.turn_id;
    const context = JSON.stringify((await k.request('GET', `/api/turns/${turnId}/context`, { token: u.token })).body);
    assert.match(context, /notes\.txt \(text\/plain, 10 bytes\)\]\\nsome notes/);
    assert.match(context, /dot\.png \(image\/png, 8 bytes\); not shown to the model/);
    const foreign = await k.request('POST', `/api/sessions/${(await session(other.token)).id}/messages`, { token: other.token, body: { message: 'steal', attachments: [up.body.id] } });
    assert.equal(foreign.status, 404);
  });

  test('feedback 1-5 per turn and per session; stats', async () => {
    const s = await session();
    const r = await say(s.id, 'grade me');
    const path = `/api/turns/${r.body.turnId}/feedback`;
    assert.equal((await k.request('POST', path, { token: u.token, body: { grade: 6 } })).status, 400);
    assert.equal((await k.request('POST', path, { token: u.token, body: { grade: 4, comment: 'ok' } })).status, 201);
    assert.equal((await k.request('POST', path, { token: u.token, body: { grade: 5 } })).status, 409);
    assert.equal((await k.request('PUT', path, { token: u.token, body: { grade: 2 } })).body.grade, 2);
    assert.equal((await k.request('GET', path, { token: u.token })).body.grade, 2);
    const other = await k.createUser();
    assert.equal((await k.request('GET', path, { token: other.token })).status, 404);
    const sf = (await k.request('GET', `/api/sessions/${s.id}/feedback`, { token: u.token })).body;
    assert.equal(sf.averageGrade, 2);

    const costs = (await k.request('GET', '/api/stats/costs', { token: u.token })).body;
    const echo = costs.items.find((i: any) => i.model === 'builtin/echo');
    assert.ok(echo.turns >= 5);
    assert.equal(costs.total.cost, 0);
    assert.equal((await k.request('GET', '/api/stats/costs', { token: other.token })).body.total.turns, 0);
    const ts = (await k.request('GET', '/api/stats/timeseries?bucket=day', { token: u.token })).body;
    assert.equal(ts.items.length, 1);
    assert.equal(ts.items[0].turns, costs.total.turns);
    const eff = (await k.request('GET', '/api/stats/efficiency', { token: u.token })).body.items.find((i: any) => i.model === 'builtin/echo');
    assert.equal(eff.averageGrade, 2);
    assert.equal(eff.graded, 1);
    // The query form docs/compatibility.md promises: `?model=` narrows to that model (it was a 400).
    const one = await k.request('GET', '/api/stats/efficiency?model=builtin/echo', { token: u.token });
    assert.equal(one.status, 200, one.text);
    assert.deepEqual(one.body.items, [eff]);
    assert.deepEqual((await k.request('GET', '/api/stats/efficiency?model=nobody/none', { token: u.token })).body.items, []);
    const every = await k.request('GET', '/api/stats/efficiency?model=', { token: u.token });
    assert.equal(every.status, 200, every.text);
    assert.ok(every.body.items.some((i: any) => i.model === 'builtin/echo'), 'an empty model= means every model');
    const long = await k.request('GET', `/api/stats/efficiency?model=${'m'.repeat(201)}`, { token: u.token });
    assert.equal(long.status, 400, long.text);
    assert.match(long.body.error.message, /model/);
    const cap = (await k.request('GET', '/api/stats/capacity', { token: u.token })).body;
    assert.ok(cap.callsLastMinute > 0);
    assert.equal(cap.activeSessions, 0);
    assert.equal((await k.request('GET', '/api/stats/costs?group=planet', { token: u.token })).status, 400);
  });
});
