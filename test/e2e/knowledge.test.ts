/**
 * agents + memory + skills (issues 3 and 4) in one kernel: skills in the instructions, relevant
 * memory in the context, the memory and skills tools called by the builtin model through `/tool`,
 * and episodic memory written from the agents plugin's own bus events.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { dataDirWithSkills, dialects, plugin, waitFor } from './helpers';

const SKILLS = {
  deploy: { name: 'Deploy', description: 'Ship a release to production', body: '# Deploy\nRun the release pipeline, then watch the error rate for ten minutes.' },
  'code-review': { name: 'Code review', description: 'Review a change for bugs and style', body: '# Review\nRead the diff twice.' },
};

for (const database of dialects) {
  describe(`agents with memory and skills (${database})`, () => {
    let k: TestKernel;
    let dataDir: string;
    let u: { token: string; user: { id: string } };
    let v: { token: string; user: { id: string } };
    before(async () => {
      dataDir = dataDirWithSkills(SKILLS);
      k = await createTestKernel({ database, dataDir, plugins: [plugin('memory'), plugin('skills', { watch: false }), plugin('agents')] });
      u = await k.createUser();
      v = await k.createUser();
    });
    after(async () => { await k.stop(); rmSync(dataDir, { recursive: true, force: true }); });

    const session = async (who = u) => (await k.request('POST', '/api/sessions', { token: who.token, body: { agent: 'assistant' } })).body.id as string;
    const say = async (id: string, message: string, who = u) => {
      const r = await k.request('POST', `/api/sessions/${id}/messages`, { token: who.token, body: { message } });
      assert.equal(r.status, 200, r.text);
      return r.body as { turnId: string; text: string };
    };
    const systemOf = async (turnId: string, who = u) => {
      const items = (await k.request('GET', `/api/turns/${turnId}/context`, { token: who.token })).body.items;
      assert.equal(items[0].role, 'system');
      return items[0].content as string;
    };
    const toolsOf = async (turnId: string, who = u) => (await k.request('GET', `/api/turns/${turnId}/tools`, { token: who.token })).body.items;

    test('enabled skills are in the instructions the model got, with the id skills.load takes; a disabled one is not', async () => {
      const s = await session();
      const system = await systemOf((await say(s, 'hello')).turnId);
      assert.match(system, /^You are a helpful assistant/);
      assert.match(system, /skills\.load/);
      assert.ok(system.includes('- deploy: Deploy — Ship a release to production'), system);
      assert.ok(system.includes('- code-review: Code review — Review a change for bugs and style'), system);

      assert.equal((await k.request('PUT', '/api/skills/code-review/toggle', { body: { enabled: false } })).status, 200);
      try {
        const after = await systemOf((await say(s, 'hello again')).turnId);
        assert.ok(after.includes('- deploy:'));
        assert.ok(!after.includes('code-review'), after);
      } finally {
        await k.request('PUT', '/api/skills/code-review/toggle', { body: { enabled: true } });
      }
    });

    test('the builtin model loads a skill through /tool skills.load; an unknown one is a tool error it sees', async () => {
      const s = await session();
      const r = await say(s, '/tool skills.load {"id": "deploy"}');
      assert.match(r.text, /^skills\.load returned .*Run the release pipeline/);
      const [call] = await toolsOf(r.turnId);
      assert.deepEqual([call.name, call.ok, call.output.id, call.output.name], ['skills.load', true, 'deploy', 'Deploy']);
      const bad = await say(s, '/tool skills.load {"id": "no-such-skill"}');
      assert.match(bad.text, /not found/i);
      assert.equal((await toolsOf(bad.turnId))[0].ok, false);
    });

    test('memory.remember and memory.search run as the calling user; the fact is relevant memory in a later context, never in another user\'s', async () => {
      const s = await session();
      const r = await say(s, '/tool memory.remember {"text": "favourite colour is teal", "category": "preferences", "key": "colour"}');
      const [call] = await toolsOf(r.turnId);
      assert.equal(call.ok, true, JSON.stringify(call));
      assert.match(call.output.id, /^mem_/);
      const facts = (await k.request('GET', '/api/memory/semantic/preferences', { token: u.token })).body.items;
      assert.deepEqual(facts.map((f: any) => [f.key, f.text, f.owner]), [['colour', 'favourite colour is teal', u.user.id]]);
      assert.deepEqual((await k.request('GET', '/api/memory/semantic', { token: v.token })).body.items, []);

      const found = await say(s, '/tool memory.search {"query": "teal"}');
      assert.equal((await toolsOf(found.turnId))[0].ok, true);
      assert.match(found.text, /^memory\.search returned .*favourite colour is teal/);
      const notMine = await say(await session(v), '/tool memory.search {"query": "teal", "kind": "semantic"}', v);
      assert.equal(notMine.text, 'memory.search returned []');

      const later = await say(await session(), 'teal colour?');
      const system = await systemOf(later.turnId);
      assert.match(system, /Relevant memory:\n(.|\n)*- \(semantic\) preferences\/colour: favourite colour is teal/);
      const theirs = await systemOf((await say(await session(v), 'teal colour?', v)).turnId, v);
      assert.ok(!theirs.includes('favourite colour'), theirs);
    });

    test('episodic memory records the turns and tool calls from the agents plugin\'s bus events, per user', async () => {
      const s = await session();
      const r = await say(s, '/tool memory.remember {"text": "the build server is called hopper", "category": "infra", "key": "build"}');
      const episodes = await waitFor(async () => {
        const items = (await k.request('GET', '/api/memory/episodic?limit=100', { token: u.token })).body.items.filter((e: any) => e.session_id === s);
        return items.length >= 2 ? items : undefined;
      }, 'the turn and the tool call as episodes');
      const turn = episodes.find((e: any) => e.topic === 'agent.turn.completed');
      const tool = episodes.find((e: any) => e.topic === 'agent.tool.called');
      assert.ok(turn && tool, JSON.stringify(episodes));
      assert.equal(turn.text, `Turn with assistant. User: /tool memory.remember {"text": "the build server is called hopper", "category": "infra", "key": "build"} Answer: ${r.text}`);
      // The input as the tool ran it: its schema's defaults applied (kind: semantic).
      assert.match(tool.text, /^Tool memory\.remember called with \{"text":"the build server is called hopper","category":"infra","key":"build","kind":"semantic"\}; returned \{"id":"mem_/);
      assert.equal(turn.owner, u.user.id);
      const theirs = (await k.request('GET', '/api/memory/episodic?limit=100', { token: v.token })).body.items;
      assert.ok(!theirs.some((e: any) => e.text.includes('hopper')));
      // Episodes are searchable like any memory.
      const hits = (await k.request('GET', '/api/memory/search?q=hopper&kind=episodic', { token: u.token })).body.items;
      assert.ok(hits.length >= 2);
    });
  });
}
