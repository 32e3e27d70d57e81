/**
 * The coding-agent runner's documented request shapes, through the real server: its agent body,
 * a project's agents, merge/rebase by query, `notify` (completion notification) beside `/input`,
 * and notification settings with delivery to a local fake Discord webhook (Execute Webhook:
 * POST JSON `{ content }`, 204; 429 with `retry_after` in seconds) through the channels plugin's
 * durable queue.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { AGENT, PLUGIN, REPO_BASE, gitIn, makeRepo, until } from './helpers';

const ROOT = join(__dirname, '..', '..', '..');
let k: TestKernel;
let user: { token: string; user: { id: string } };
let projectId: string;
let repoId: string;
let repo: string;
let discord: Server;
let discordUrl = '';
/** What the fake Discord received, and how it answers the next calls. */
const received: Array<{ path: string; body: any }> = [];
let answers: number[] = [];

before(async () => {
  discord = createServer((req, res) => {
    let raw = '';
    req.on('data', c => { raw += c; });
    req.on('end', () => {
      const status = answers.shift() ?? 204;
      received.push({ path: req.url!, body: JSON.parse(raw || 'null') });
      if (status === 429) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0.05' });
        res.end(JSON.stringify({ message: 'You are being rate limited.', retry_after: 0.05, global: false }));
        return;
      }
      res.writeHead(status).end();
    });
  });
  await new Promise<void>(r => discord.listen(0, '127.0.0.1', r));
  discordUrl = `http://127.0.0.1:${(discord.address() as AddressInfo).port}/api/webhooks/123/secret-token`;
  k = await createTestKernel({
    database: process.env.PLINTH_TEST_POSTGRES_URL ? 'postgres' : 'sqlite',
    egressAllow: ['127.0.0.1'],
    plugins: [
      { path: join(ROOT, 'plugins', 'agents') },
      { path: join(ROOT, 'plugins', 'channels'), config: { delivery: { backoffBaseMs: 20, backoffMaxMs: 100, pollIntervalMs: 50 } } },
      { path: PLUGIN, config: { repoRoots: [REPO_BASE], sandbox: 'off' } },
    ],
  });
  user = await k.createUser() as any;
  repo = makeRepo();
  projectId = (await k.request('POST', '/api/projects', { body: { name: 'demo' }, token: user.token })).body.id;
  const r = await k.request('POST', `/api/projects/${projectId}/repos`, { body: { name: 'app', repo_path: repo }, token: user.token });
  assert.equal(r.status, 201, r.text);
  repoId = r.body.id;
});

after(async () => {
  await k?.stop();
  discord?.close();
});

test('POST /api/agents takes the runner\'s body: project, comma tools, a bare model, defaults; the project lists its agents', async () => {
  const r = await k.request('POST', '/api/agents', { token: user.token, body: { name: 'Front End Builder', project_id: projectId, allowed_tools: 'Read, Edit,Bash', model: 'sonnet' } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.name, 'Front End Builder');
  assert.match(r.body.id, /^[a-z0-9_]+$/);
  assert.equal(r.body.kind, 'cli');
  assert.equal(r.body.cli_name, 'claude-code');
  assert.equal(r.body.role, 'builder');
  assert.equal(r.body.max_turns, 100);
  assert.deepEqual(r.body.allowed_tools, ['Read', 'Edit', 'Bash']);
  assert.deepEqual(r.body.provider_config, { project_id: projectId, model: 'sonnet' });
  // Plinth's own body still works, and an llm agent's bare model gets its provider.
  const llm = await k.request('POST', '/api/agents', { token: user.token, body: { name: 'helper', kind: 'llm', model: 'default', allowed_tools: ['memory.search'] } });
  assert.equal(llm.status, 201, llm.text);
  const list = await k.request('GET', `/api/projects/${projectId}/agents`, { token: user.token });
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.body.items.map((a: any) => a.name), ['Front End Builder']);
  // Refused: an array of non-strings, a name that starts with a space; another user's project.
  const bad = await k.request('POST', '/api/agents', { token: user.token, body: { name: ' x', project_id: projectId } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'PLINTH_ERR_VALIDATION');
  const other = await k.createUser();
  assert.equal((await k.request('GET', `/api/projects/${projectId}/agents`, { token: other.token })).status, 404);
});

test('merge and rebase take the query form (?branch=&repo_id=) beside the JSON body', async () => {
  gitIn(repo, 'branch', 'feature');
  gitIn(repo, 'checkout', '-q', 'feature');
  gitIn(repo, 'commit', '-q', '--allow-empty', '-m', 'on feature');
  gitIn(repo, 'checkout', '-q', 'main');
  const merged = await k.request('POST', `/api/projects/${projectId}/branches/merge?branch=feature&repo_id=${repoId}`, { token: user.token });
  assert.equal(merged.status, 200, merged.text);
  assert.ok(gitIn(repo, 'log', '--format=%s', 'main').split('\n').includes('on feature'), 'feature is merged into the checked-out main');
  const missing = await k.request('POST', `/api/projects/${projectId}/branches/rebase?repo_id=${repoId}`, { token: user.token });
  assert.equal(missing.status, 400);
  assert.match(missing.body.error.message, /branch required/);
  const rebased = await k.request('POST', `/api/projects/${projectId}/branches/rebase?branch=feature&repo_id=${repoId}`, { token: user.token });
  assert.equal(rebased.status, 200, rebased.text);
});

test('notify: settings, then a notified run that completes is announced on the Discord webhook through the durable queue (after a 429)', async () => {
  assert.deepEqual((await k.request('GET', '/api/settings/notifications', { token: user.token })).body,
    { discord_webhook_url: null, webhook_url: null, events: ['completed', 'failed', 'needs_attention'] });
  const bad = await k.request('PUT', '/api/settings/notifications', { token: user.token, body: { discord_webhook_url: 'ftp://x', events: ['nope'] } });
  assert.equal(bad.status, 400);
  const put = await k.request('PUT', '/api/settings/notifications', { token: user.token, body: { discord_webhook_url: discordUrl, events: ['completed', 'failed'] } });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.discord_webhook_url, discordUrl);

  const agent = await k.request('POST', '/api/agents', { token: k.adminToken, body: { name: 'echoer', kind: 'cli', cli_name: 'command', provider_config: { command: AGENT, args: ['echo'] } } });
  assert.equal(agent.status, 201, agent.text);
  const start = async () => {
    const r = await k.request('POST', '/api/runs', { token: user.token, body: { agent_id: agent.body.id, task: 't', project_id: projectId } });
    assert.equal(r.status, 201, r.text);
    await until(async () => (await k.request('GET', `/api/runs/${r.body.id}/logs`, { token: user.token })).text.includes('ready'), 10_000, 'the CLI to start');
    return r.body.id as string;
  };
  const settled = (id: string) => until(async () => { const r = (await k.request('GET', `/api/runs/${id}`, { token: user.token })).body; return ['completed', 'failed'].includes(r.status) && r; }, 10_000, 'the run to end');

  // Not notified: nothing is sent.
  const quiet = await start();
  assert.equal((await k.request('POST', `/api/runs/${quiet}/input`, { token: user.token, body: { message: 'quit' } })).status, 200);
  await settled(quiet);

  const loud = await start();
  const n = await k.request('POST', `/api/runs/${loud}/notify`, { token: user.token, body: { notify: true } });
  assert.equal(n.status, 200, n.text);
  assert.equal(n.body.notify, true);
  answers = [429];
  // The old shape of notify still types into the CLI.
  assert.equal((await k.request('POST', `/api/runs/${loud}/notify`, { token: user.token, body: { message: 'quit' } })).status, 200);
  assert.equal((await settled(loud)).status, 'completed');
  await until(() => received.length >= 2, 10_000, 'the webhook to be retried');
  assert.equal(received.length, 2);
  for (const r of received) {
    assert.equal(r.path, '/api/webhooks/123/secret-token');
    assert.deepEqual(Object.keys(r.body), ['content']);
    assert.match(r.body.content, new RegExp(`Run ${loud} completed`));
  }
  // A body that is neither shape is refused.
  assert.equal((await k.request('POST', `/api/runs/${loud}/notify`, { token: user.token, body: { notify: 'yes' } })).status, 400);
});
