/**
 * MCP (issue 7) over the real skills, memory and agents plugins: enabled skills and the caller's
 * semantic memory as resources, agents' instructions as prompts, through the MCP SDK Client over
 * Streamable HTTP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { dataDirWithSkills, plugin } from './helpers';

async function connect(baseUrl: string, token: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', baseUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'e2e', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

describe('MCP resources and prompts from the real skills, memory and agents plugins', () => {
  let k: TestKernel;
  let dataDir: string;
  let u: { token: string; user: { id: string } };
  let v: { token: string; user: { id: string } };
  const clients: Client[] = [];
  const open = async (token: string) => { const c = await connect(k.baseUrl, token); clients.push(c); return c; };
  before(async () => {
    dataDir = dataDirWithSkills({
      deploy: { name: 'Deploy', description: 'Ship a release to production', body: '# Deploy\nRun the release pipeline.' },
      'code-review': { name: 'Code review', description: 'Review a change', body: '# Review\nRead the diff twice.' },
    });
    k = await createTestKernel({ dataDir, plugins: [plugin('memory'), plugin('skills', { watch: false }), plugin('agents'), plugin('mcp')] });
    u = await k.createUser();
    v = await k.createUser();
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await k.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('enabled skills are resources with their Markdown; a disabled one is neither listed nor readable', async () => {
    const c = await open(u.token);
    const listed = (await c.listResources()).resources;
    assert.deepEqual(listed.map(r => [r.uri, r.name, r.mimeType]).sort(), [['skill://code-review', 'Code review', 'text/markdown'], ['skill://deploy', 'Deploy', 'text/markdown']]);
    const read = await c.readResource({ uri: 'skill://deploy' });
    assert.equal((read.contents[0] as any).text.trim(), '# Deploy\nRun the release pipeline.');

    assert.equal((await k.request('PUT', '/api/skills/code-review/toggle', { body: { enabled: false } })).status, 200);
    try {
      assert.deepEqual((await c.listResources()).resources.map(r => r.uri), ['skill://deploy']);
      await assert.rejects(c.readResource({ uri: 'skill://code-review' }), /not found/);
    } finally {
      await k.request('PUT', '/api/skills/code-review/toggle', { body: { enabled: true } });
    }
  });

  test("the caller's semantic memory through the memory://semantic/{query} template: its own facts only, not episodes", async () => {
    for (const [who, value] of [[u, 'the staging database is on port 5433'], [v, 'the staging database is on port 6543']] as const) {
      const r = await k.request('POST', '/api/memory/semantic', { token: who.token, body: { category: 'infra', key: 'staging-db', value } });
      assert.equal(r.status, 201, r.text);
    }
    // Episodes mentioning the same words must not crowd the fact out.
    for (let i = 0; i < 25; i++) await k.request('POST', '/api/memory/episodic', { token: u.token, body: { text: `staging database check ${i} passed` } });

    const c = await open(u.token);
    const templates = (await c.listResourceTemplates()).resourceTemplates.map(t => t.uriTemplate);
    assert.ok(templates.includes('memory://semantic/{query}'));
    const read = await c.readResource({ uri: 'memory://semantic/staging%20database' });
    const hits = JSON.parse((read.contents[0] as any).text);
    assert.deepEqual(hits.map((h: any) => [h.kind, h.text]), [['semantic', 'infra/staging-db: the staging database is on port 5433']]);
    const theirs = JSON.parse(((await (await open(v.token)).readResource({ uri: 'memory://semantic/staging' })).contents[0] as any).text);
    assert.deepEqual(theirs.map((h: any) => h.text), ['infra/staging-db: the staging database is on port 6543']);
  });

  test("prompts are the instructions of the agents the caller may use, with the task appended", async () => {
    const mine = await k.request('POST', '/api/agents', { token: u.token, body: { name: 'u-helper', instructions: 'Answer in haiku.' } });
    assert.equal(mine.status, 201, mine.text);
    const c = await open(u.token);
    const names = (await c.listPrompts()).prompts.map(p => p.name).sort();
    assert.deepEqual(names, ['agent.assistant', 'agent.u-helper']);
    const p = await c.getPrompt({ name: 'agent.u-helper', arguments: { task: 'describe autumn' } });
    assert.deepEqual(p.messages.map(m => (m.content as any).text), ['Answer in haiku.', 'describe autumn']);
    const seeded = await c.getPrompt({ name: 'agent.assistant', arguments: {} });
    assert.match((seeded.messages[0].content as any).text, /^You are a helpful assistant/);

    const other = await open(v.token);
    assert.deepEqual((await other.listPrompts()).prompts.map(p => p.name), ['agent.assistant']);
    await assert.rejects(other.getPrompt({ name: 'agent.u-helper', arguments: {} }), /not found/);
  });

  test('the memory and skills tools are MCP tools that act as the caller', async () => {
    const c = await open(u.token);
    const tools = (await c.listTools()).tools.map(t => t.name);
    for (const name of ['memory.search', 'memory.remember', 'memory.forget', 'skills.load']) assert.ok(tools.includes(name), name);
    const saved: any = await c.callTool({ name: 'memory.remember', arguments: { text: 'deploys happen on Tuesdays', category: 'process', key: 'deploy-day' } });
    assert.equal(saved.isError, undefined, JSON.stringify(saved));
    const facts = (await k.request('GET', '/api/memory/semantic/process', { token: u.token })).body.items;
    assert.deepEqual(facts.map((f: any) => [f.owner, f.text, f.source]), [[u.user.id, 'deploys happen on Tuesdays', 'tool:mcp']]);
    const skill: any = await c.callTool({ name: 'skills.load', arguments: { id: 'deploy' } });
    assert.match(skill.structuredContent.content, /Run the release pipeline/);
  });
});
