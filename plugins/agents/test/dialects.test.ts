import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { readSse } from 'plinth/testing';

const AGENTS = join(__dirname, '..');
const TOOLBOX = join(__dirname, 'fixtures', 'toolbox');
const dialects = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] as const : ['sqlite'] as const;

/** The stores' main paths through the HTTP API, on each database: sessions, messages, turns, feedback, stats, keys. */
for (const database of dialects) {
  describe(`agents stores on ${database}`, () => {
    let k: TestKernel;
    let u: { token: string; user: { id: string } };
    let other: { token: string };
    before(async () => {
      k = await createTestKernel({ database, plugins: [{ path: TOOLBOX }, { path: AGENTS, config: { prices: { 'builtin/echo': { input: 1, output: 2 } } } }] });
      u = await k.createUser();
      other = await k.createUser();
    });
    after(() => k.stop());
    const req = (method: string, path: string, body?: unknown, token = u.token) => k.request(method, path, { token, body });

    test('agents: seeded default, create, update, list, delete; names unique', async () => {
      const list = (await req('GET', '/api/agents')).body.items.map((a: any) => a.name);
      assert.deepEqual(list, ['assistant']);
      const made = await req('POST', '/api/agents', { name: 'mine', instructions: 'Mine.', allowed_tools: ['toolbox.*'], fallback_models: ['builtin/echo'] });
      assert.equal(made.status, 201, made.text);
      assert.deepEqual(made.body.allowed_tools, ['toolbox.*']);
      assert.equal((await req('POST', '/api/agents', { name: 'mine' })).status, 409);
      const patched = await req('PATCH', '/api/agents/mine', { max_turns: 7, provider_config: { temperature: 0.2 } });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.max_turns, 7);
      assert.deepEqual(patched.body.provider_config, { temperature: 0.2 });
      assert.equal((await req('GET', '/api/agents/mine', undefined, other.token)).status, 404);
      assert.equal((await req('PUT', '/api/roster/mine/model', { model: 'builtin/echo' })).status, 200);
      const roster = (await req('GET', '/api/roster')).body.items;
      assert.ok(roster.some((a: any) => a.name === 'mine'));
      const temp = await req('POST', '/api/agents', { name: 'temp' });
      assert.equal((await req('DELETE', `/api/agents/${temp.body.id}`)).status, 204);
      assert.equal((await req('GET', '/api/agents/temp')).status, 404);
    });

    test('sessions and messages: create, page by cursor, turns stored in order, delete', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const s = await req('POST', '/api/sessions', { agent: 'assistant', name: `s${i}` });
        assert.equal(s.status, 201, s.text);
        ids.push(s.body.id);
      }
      const page1 = (await req('GET', '/api/sessions?limit=2')).body;
      assert.equal(page1.items.length, 2);
      assert.ok(page1.nextCursor);
      const page2 = (await req('GET', `/api/sessions?limit=2&cursor=${page1.nextCursor}`)).body;
      assert.deepEqual([...page1.items, ...page2.items].map((s: any) => s.id).sort(), [...ids].sort());
      assert.equal(page2.nextCursor, null);
      assert.deepEqual((await req('GET', '/api/sessions', undefined, other.token)).body.items, []);

      const id = ids[0];
      for (const m of ['one', 'two', '/tool toolbox.add {"a": 1, "b": 2}']) assert.equal((await req('POST', `/api/sessions/${id}/messages`, { message: m })).status, 200);
      const all = (await req('GET', `/api/sessions/${id}/messages?limit=100`)).body.items;
      assert.deepEqual(all.map((m: any) => [m.seq, m.role]), [[1, 'user'], [2, 'assistant'], [3, 'user'], [4, 'assistant'], [5, 'user'], [6, 'assistant'], [7, 'tool'], [8, 'assistant']]);
      assert.equal(all[7].content, 'toolbox.add returned 3');
      assert.deepEqual(all[5].tool_calls.map((c: any) => c.name), ['toolbox.add']);
      assert.equal(all[1].partial, false);
      const m1 = (await req('GET', `/api/sessions/${id}/messages?limit=3`)).body;
      const m2 = (await req('GET', `/api/sessions/${id}/messages?limit=3&cursor=${m1.nextCursor}`)).body;
      assert.deepEqual([...m1.items, ...m2.items].map((m: any) => m.seq), [1, 2, 3, 4, 5, 6]);
      assert.equal((await req('GET', `/api/sessions/${id}/messages?cursor=garbage`)).status, 400);
      assert.equal((await req('GET', `/api/sessions/${id}/messages`, undefined, other.token)).status, 404);

      const replay = (await req('GET', `/api/sessions/${id}/replay`)).body.items;
      assert.deepEqual(replay.filter((f: any) => f.event === 'done').map((f: any) => f.data.message.content), ['one', 'two', 'toolbox.add returned 3']);

      const turns = (await req('GET', `/api/sessions/${id}/turns?limit=2`)).body;
      const more = (await req('GET', `/api/sessions/${id}/turns?limit=2&cursor=${turns.nextCursor}`)).body;
      const allTurns = [...turns.items, ...more.items];
      assert.equal(allTurns.length, 3);
      assert.ok(allTurns.every((t: any) => t.status === 'ok' && t.model === 'builtin/echo' && t.context_messages >= 2));
      const tools = (await req('GET', `/api/turns/${allTurns[2].id}/tools`)).body.items;
      assert.deepEqual([tools[0].name, tools[0].output], ['toolbox.add', 3]);

      assert.equal((await req('DELETE', `/api/sessions/${ids[2]}`)).status, 204);
      assert.equal((await req('GET', `/api/sessions/${ids[2]}`)).status, 404);
      assert.equal((await req('GET', `/api/sessions/${ids[2]}/messages`)).status, 404);
    });

    test('SSE frames are numbered and stored; Last-Event-ID resumes after a frame', async () => {
      const id = (await req('POST', '/api/sessions', { agent: 'assistant' })).body.id;
      const res = await fetch(`${k.baseUrl}/api/sessions/${id}/messages`, {
        method: 'POST', headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ message: 'a b c' }),
      });
      const frames = await readSse(res);
      assert.deepEqual(frames.map(f => Number(f.id)), frames.map((_, i) => i + 1));
      assert.equal(frames.at(-1)!.event, 'done');
      const resumed = await readSse(await fetch(`${k.baseUrl}/api/sessions/${id}/stream`, { headers: { authorization: `Bearer ${u.token}`, 'last-event-id': '2' } }));
      assert.deepEqual(resumed.map(f => f.id), frames.slice(2).map(f => f.id));
    });

    test('feedback and stats: costs by model, agent and day, timeseries, efficiency; users see their own', async () => {
      const s = (await req('POST', '/api/sessions', { agent: 'assistant' })).body.id;
      const t1 = (await req('POST', `/api/sessions/${s}/messages`, { message: 'alpha beta' })).body.turnId;
      const t2 = (await req('POST', `/api/sessions/${s}/messages`, { message: 'gamma' })).body.turnId;
      assert.equal((await req('POST', `/api/turns/${t1}/feedback`, { grade: 4, comment: 'good' })).status, 201);
      assert.equal((await req('POST', `/api/turns/${t1}/feedback`, { grade: 2 })).status, 409);
      assert.equal((await req('PUT', `/api/turns/${t1}/feedback`, { grade: 5 })).body.grade, 5);
      assert.equal((await req('PUT', `/api/turns/${t2}/feedback`, { grade: 3 })).status, 200);
      assert.equal((await req('GET', `/api/turns/${t1}/feedback`)).body.comment, null);
      assert.equal((await req('GET', `/api/turns/${t1}/feedback`, undefined, other.token)).status, 404);
      assert.equal((await req('GET', `/api/sessions/${s}/feedback`)).body.averageGrade, 4);

      const costs = (await req('GET', '/api/stats/costs?group=model')).body;
      const echo = costs.items.find((i: any) => i.model === 'builtin/echo');
      assert.ok(echo.turns >= 6, JSON.stringify(costs));
      assert.ok(echo.cost > 0 && echo.outputTokens > 0);
      assert.equal(typeof costs.total.cost, 'number');
      const byAgent = (await req('GET', '/api/stats/costs?group=agent')).body.items;
      assert.deepEqual(byAgent.map((i: any) => i.agent), ['assistant']);
      const byDay = (await req('GET', '/api/stats/costs?group=day')).body.items;
      assert.match(byDay[0].day, /^\d{4}-\d{2}-\d{2}$/);
      const since = new Date(Date.now() - 3600_000).toISOString();
      const series = (await req('GET', `/api/stats/timeseries?bucket=hour&since=${since}`)).body.items;
      assert.ok(series.length >= 1 && series.every((b: any) => !Number.isNaN(Date.parse(b.start)) && Number.isInteger(b.avgLatencyMs)));
      assert.equal((await req('GET', '/api/stats/timeseries?bucket=day')).body.items[0].turns, echo.turns);
      const eff = (await req('GET', '/api/stats/efficiency')).body.items.find((i: any) => i.model === 'builtin/echo');
      assert.equal(eff.graded, 2);
      assert.equal(eff.averageGrade, 4);
      assert.equal(eff.errorRate, 0);
      assert.deepEqual((await req('GET', '/api/stats/costs', undefined, other.token)).body.total.turns, 0);
      assert.ok((await k.request('GET', '/api/stats/costs')).body.total.turns >= echo.turns, 'an admin sees everyone');
      assert.equal((await req('GET', '/api/stats/capacity')).status, 200);
      assert.equal((await req('GET', '/api/stats/costs?since=yesterday')).status, 400);
    });

    test('provider keys are stored encrypted and never listed', async () => {
      assert.equal((await k.request('PUT', '/api/providers/openai/key', { body: { apiKey: 'sk-dialect-test-1234567890' } })).status, 200);
      assert.equal((await k.request('PUT', '/api/providers/openai/key', { body: { apiKey: 'sk-dialect-test-replaced' } })).status, 200);
      const providers = await k.request('GET', '/api/providers');
      assert.equal(providers.body.items.find((p: any) => p.name === 'openai').keyStored, true);
      assert.ok(!providers.text.includes('sk-dialect'));
      assert.equal((await k.request('DELETE', '/api/providers/openai/key')).status, 204);
      assert.equal((await k.request('GET', '/api/providers')).body.items.find((p: any) => p.name === 'openai').keyStored, false);
    });
  });
}
