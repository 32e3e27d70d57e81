import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, waitFor, type TestKernel } from 'plinth/testing';

const AGENTS = join(__dirname, '..');
const TOOLBOX = join(__dirname, 'fixtures', 'toolbox');
const APPROVALS = join(__dirname, '..', '..', 'approvals');
const dialects = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] as const : ['sqlite'] as const;
// One token costs $0.001 on builtin/echo, so costs are exact sums of tokens.
const prices = { 'builtin/echo': { input: 1000, output: 1000 } };
const task = (t: string, extra: Record<string, unknown> = {}) => JSON.stringify({ task: t, ...extra });

for (const database of dialects) describe(`sub-agents on the builtin model (${database})`, () => {
  let k: TestKernel;
  let alice: { token: string; user: { id: string } };
  before(async () => {
    k = await createTestKernel({ database, plugins: [{ path: APPROVALS }, { path: TOOLBOX }, { path: AGENTS, config: { prices, subagents: { maxDepth: 2 } } }] });
    alice = await k.createUser() as any;
    const agent = (name: string, allowed_tools: string[]) => k.request('POST', '/api/agents', { body: { name, model: 'builtin/echo', instructions: `You are ${name}.`, allowed_tools } });
    for (const [name, tools] of [['boss', ['subagent.*']], ['helper', ['toolbox.*']], ['recur', ['subagent.recur']], ['cheap', ['toolbox.*']]] as const) {
      assert.equal((await agent(name, [...tools])).status, 201);
    }
    for (const body of [{ agent: 'helper', description: 'launches things' }, { agent: 'recur' }, { agent: 'cheap', max_cost_usd: 0.001 }]) {
      const made = await k.request('POST', '/api/subagents', { body });
      assert.equal(made.status, 201, made.text);
    }
  });
  after(() => k.stop());

  const session = async (agent = 'boss') => (await k.request('POST', '/api/sessions', { token: alice.token, body: { agent } })).body.id as string;
  const say = (sid: string, message: string) => k.request('POST', `/api/sessions/${sid}/messages`, { token: alice.token, body: { message } });
  const turn = async (id: string) => (await k.request('GET', `/api/turns/${id}`, { token: alice.token })).body;
  const launched = async () => (await k.request('GET', '/api/toolbox/launched', { token: null })).body.launched as number;

  test('definitions: list, get, create/update/delete for admins only, bad input refused', async () => {
    const list = await k.request('GET', '/api/subagents', { token: alice.token });
    assert.deepEqual(list.body.items.map((s: any) => [s.name, s.enabled]), [['cheap', true], ['helper', true], ['recur', true]]);
    const one = await k.request('GET', '/api/subagents/helper', { token: alice.token });
    assert.deepEqual([one.body.description, one.body.agent.model, one.body.agent.allowed_tools], ['launches things', 'builtin/echo', ['toolbox.*']]);
    assert.equal((await k.request('GET', '/api/subagents/nobody', { token: alice.token })).body.error.code, 'PLINTH_ERR_NOT_FOUND');
    const denied = await k.request('PUT', '/api/subagents/helper/toggle', { token: alice.token, body: { enabled: false } });
    assert.equal(denied.status, 403, denied.text);
    assert.equal((await k.request('POST', '/api/subagents', { token: alice.token, body: { agent: 'boss' } })).status, 403);
    const dup = await k.request('POST', '/api/subagents', { body: { agent: 'helper' } });
    assert.deepEqual([dup.status, dup.body.error.code], [409, 'PLINTH_ERR_CONFLICT']);
    const bad = await k.request('PUT', '/api/subagents/helper', { body: { max_cost_usd: -1 } });
    assert.equal(bad.status, 400, bad.text);
    const made = await k.request('POST', '/api/subagents', { body: { agent: 'boss', description: 'temp' } });
    assert.equal(made.status, 201, made.text);
    const changed = await k.request('PUT', '/api/subagents/boss', { body: { description: 'changed' } });
    assert.equal(changed.body.description, 'changed');
    assert.equal((await k.request('DELETE', '/api/subagents/boss')).status, 204);
    assert.equal((await k.request('GET', '/api/subagents/boss')).status, 404);
    assert.equal((await k.request('GET', '/api/subagents/helper', { token: alice.token })).body.description, 'launches things');
  });

  test('a parent delegates to a sub-agent whose gated tool is approved; the child turn rolls up into the parent turn', async () => {
    const sid = await session();
    const before = await launched();
    const asking = say(sid, `/tool subagent.helper ${task('/tool toolbox.launch {"n": 2}', { context: 'the launch pad is ready' })}`);
    const pending = await waitFor(async () => (await k.request('GET', '/api/approvals?state=pending', { token: alice.token })).body.items.find((r: any) => r.tool === 'toolbox.launch'), 'approval of toolbox.launch', 10_000);
    assert.deepEqual(pending.input, { n: 2 });
    assert.equal((await k.request('POST', `/api/approvals/${pending.id}/approve`, { token: alice.token, body: {} })).status, 200);
    const r = await asking;
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.text, /^subagent\.helper returned .*toolbox\.launch returned \{\\"launched\\":/, r.text);
    assert.equal(await launched(), before + 2);

    const parent = await turn(r.body.turnId);
    assert.equal(parent.delegations.length, 1);
    const d = parent.delegations[0];
    assert.deepEqual([d.subagent, d.depth, d.status, d.turns, d.toolCalls], ['helper', 1, 'ok', 1, 1]);
    const child = await turn(d.turnId);
    assert.deepEqual([child.agent, child.session_id, child.via, child.tool_calls.map((c: any) => [c.name, c.ok])], ['helper', d.sessionId, 'subagent', [['toolbox.launch', true]]]);
    assert.deepEqual([d.inputTokens, d.outputTokens], [child.input_tokens, child.output_tokens]);
    assert.ok(child.cost > 0);
    assert.equal(d.cost, child.cost);
    assert.deepEqual(parent.delegated, { turns: 1, toolCalls: 1, inputTokens: child.input_tokens, outputTokens: child.output_tokens, cost: child.cost });
    // The child's own context: the caller's context and the parent's message in its system prompt, the task as its message.
    const ctx = (await k.request('GET', `/api/turns/${d.turnId}/context`, { token: alice.token })).body.items;
    assert.match(ctx[0].content, /You are helper\.[\s\S]*whose user said:\n\/tool subagent\.helper[\s\S]*Context from the caller:\nthe launch pad is ready/);
    assert.equal(ctx.at(-1).content, '/tool toolbox.launch {"n": 2}');
    // The child session is alice's, and shows what the sub-agent did.
    const msgs = (await k.request('GET', `/api/sessions/${d.sessionId}/messages`, { token: alice.token })).body.items;
    assert.deepEqual(msgs.map((m: any) => m.role), ['user', 'assistant', 'tool', 'assistant']);
  });

  test('depth is bounded: a sub-agent calling itself stops at maxDepth, and the nested costs roll up', async () => {
    const innermost = task('/tool subagent.recur {"task": "too deep"}');
    const r = await say(await session(), `/tool subagent.recur ${task(`/tool subagent.recur ${innermost}`)}`);
    assert.equal(r.status, 200, r.text);
    const d = (await turn(r.body.turnId)).delegations[0];
    assert.deepEqual([d.depth, d.turns], [1, 2]);
    const depth1 = await turn(d.turnId);
    const d2 = depth1.delegations[0];
    assert.equal(d2.depth, 2);
    const depth2 = await turn(d2.turnId);
    assert.deepEqual(depth2.tool_calls.map((c: any) => [c.name, c.ok]), [['subagent.recur', false]]);
    assert.match(depth2.tool_calls[0].output.error, /not available to this agent/);
    assert.deepEqual(depth2.delegations, []);
    assert.equal(d.cost, depth1.cost + depth2.cost);
    assert.equal(d.inputTokens, depth1.input_tokens + depth2.input_tokens);
    assert.equal(d.toolCalls, 2);
  });

  test('cost is bounded: a sub-agent over its max_cost_usd stops before its tool call', async () => {
    const before = await launched();
    const r = await say(await session(), `/tool subagent.cheap ${task('/tool toolbox.launch {"n": 1}')}`);
    assert.equal(r.status, 200, r.text);
    const d = (await turn(r.body.turnId)).delegations[0];
    assert.equal(d.status, 'partial');
    assert.match(d.error, /cost limit 0\.001 USD reached; 1 tool call\(s\) not made/);
    assert.equal(d.toolCalls, 0);
    assert.equal(await launched(), before);
  });

  test('a disabled sub-agent is not offered and a call to it is refused; enabled again it works', async () => {
    const offered = async () => (await k.request('GET', '/api/subagents?agent=boss', { token: alice.token })).body.items.map((s: any) => s.name);
    assert.deepEqual(await offered(), ['cheap', 'helper', 'recur']);
    const off = await k.request('PUT', '/api/subagents/helper/toggle', { body: {} });
    assert.deepEqual([off.status, off.body.enabled], [200, false]);
    assert.deepEqual(await offered(), ['cheap', 'recur']);
    const r = await say(await session(), `/tool subagent.helper ${task('hello')}`);
    assert.equal(r.body.text, 'subagent.helper returned {"error":"tool subagent.helper is not available to this agent"}');
    assert.deepEqual((await turn(r.body.turnId)).delegations, []);
    assert.equal((await k.request('PUT', '/api/subagents/helper/toggle', { body: { enabled: true } })).body.enabled, true);
    const ok = await say(await session(), `/tool subagent.helper ${task('hello')}`);
    assert.match(ok.body.text, /"text":"hello"/);
  });
});
