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
let startRun: () => Promise<string>;
let settledOf: (id: string) => Promise<any>;
let github: Server;
/** The fake GitHub's pull requests, and the requests it was sent. */
const pulls: any[] = [];
const githubCalls: Array<{ method: string; path: string; auth: string | undefined; body: any }> = [];
process.env.PLINTH_GITHUB_TOKEN = 'ghp_test_token';

/** GitHub's REST API as documented: create a pull (201, or 422 when one exists), list by head, combined status, reviews. */
function fakeGitHub(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, raw: string) {
  const url = new URL(req.url!, 'http://x');
  const body = raw ? JSON.parse(raw) : undefined;
  githubCalls.push({ method: req.method!, path: url.pathname + url.search, auth: req.headers.authorization, body });
  const json = (status: number, value: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(value)); };
  if (req.headers.authorization !== 'Bearer ghp_test_token') return json(401, { message: 'Bad credentials' });
  let m;
  if (req.method === 'POST' && url.pathname === '/repos/acme/app/pulls') {
    if (pulls.some(p => p.head.ref === body.head && p.state === 'open')) return json(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for acme:${body.head}.` }] });
    const pr = { number: 7 + pulls.length, html_url: `https://github.com/acme/app/pull/${7 + pulls.length}`, state: 'open', merged_at: null, title: body.title, body: body.body, head: { ref: body.head, sha: 'abc123' }, base: { ref: body.base } };
    pulls.push(pr);
    return json(201, pr);
  }
  if (req.method === 'GET' && url.pathname === '/repos/acme/app/pulls') {
    const head = url.searchParams.get('head');
    return json(200, pulls.filter(p => `acme:${p.head.ref}` === head && (url.searchParams.get('state') === 'all' || p.state === url.searchParams.get('state'))));
  }
  if (req.method === 'GET' && url.pathname === '/repos/acme/app/commits/abc123/status') {
    return json(200, { state: 'success', total_count: 2, sha: 'abc123', statuses: [{ state: 'success', context: 'ci/build' }, { state: 'success', context: 'ci/test' }] });
  }
  if (req.method === 'GET' && (m = url.pathname.match(/^\/repos\/acme\/app\/pulls\/(\d+)\/reviews$/))) {
    return json(200, [{ id: 1, state: 'COMMENTED', user: { login: 'rev' } }, { id: 2, state: 'APPROVED', user: { login: 'rev' } }]);
  }
  json(404, { message: 'Not Found' });
}

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
  github = createServer((req, res) => { let raw = ''; req.on('data', c => { raw += c; }); req.on('end', () => fakeGitHub(req, res, raw)); });
  await new Promise<void>(r => github.listen(0, '127.0.0.1', r));
  k = await createTestKernel({
    database: process.env.PLINTH_TEST_POSTGRES_URL ? 'postgres' : 'sqlite',
    egressAllow: ['127.0.0.1'],
    plugins: [
      { path: join(ROOT, 'plugins', 'agents') },
      { path: join(ROOT, 'plugins', 'channels'), config: { delivery: { backoffBaseMs: 20, backoffMaxMs: 100, pollIntervalMs: 50 } } },
      { path: PLUGIN, config: { repoRoots: [REPO_BASE], sandbox: 'off', forge: { apiBaseUrl: `http://127.0.0.1:${(github.address() as AddressInfo).port}` } } },
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
  github?.close();
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
  startRun = async () => {
    const r = await k.request('POST', '/api/runs', { token: user.token, body: { agent_id: agent.body.id, task: 't', project_id: projectId } });
    assert.equal(r.status, 201, r.text);
    await until(async () => (await k.request('GET', `/api/runs/${r.body.id}/logs`, { token: user.token })).text.includes('ready'), 10_000, 'the CLI to start');
    return r.body.id as string;
  };
  settledOf = (id: string) => until(async () => { const r = (await k.request('GET', `/api/runs/${id}`, { token: user.token })).body; return ['completed', 'failed'].includes(r.status) && r; }, 10_000, 'the run to end');

  // Not notified: nothing is sent.
  const quiet = await startRun();
  assert.equal((await k.request('POST', `/api/runs/${quiet}/input`, { token: user.token, body: { message: 'quit' } })).status, 200);
  await settledOf(quiet);

  const loud = await startRun();
  const n = await k.request('POST', `/api/runs/${loud}/notify`, { token: user.token, body: { notify: true } });
  assert.equal(n.status, 200, n.text);
  assert.equal(n.body.notify, true);
  answers = [429];
  // The old shape of notify still types into the CLI.
  assert.equal((await k.request('POST', `/api/runs/${loud}/notify`, { token: user.token, body: { message: 'quit' } })).status, 200);
  assert.equal((await settledOf(loud)).status, 'completed');
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

test('pull requests for real: pushed and opened through the GitHub API (number and URL), the open one answered again; pr-status gives state, checks and review', async () => {
  const remoteDir = join(REPO_BASE, 'acme-app.git');
  gitIn(REPO_BASE, 'init', '-q', '--bare', remoteDir);
  gitIn(repo, 'remote', 'add', 'origin', 'https://github.com/acme/app.git');
  // Fetch URL on GitHub (what the API is asked about), pushes to a local bare repository.
  gitIn(repo, 'remote', 'set-url', '--push', 'origin', remoteDir);
  const id = await startRun();
  await k.request('POST', `/api/runs/${id}/input`, { token: user.token, body: { message: 'quit' } });
  const run = await settledOf(id);
  const pr = await k.request('POST', `/api/runs/${id}/pull-request`, { token: user.token, body: { title: 'Add the thing', body: 'Made by a run.' } });
  assert.equal(pr.status, 200, pr.text);
  assert.equal(pr.body.items[0].number, 7);
  assert.equal(pr.body.items[0].pull_request_url, 'https://github.com/acme/app/pull/7');
  assert.equal(gitIn(remoteDir, 'rev-parse', '--verify', `refs/heads/${run.branch}`).length, 40, 'the branch was pushed');
  const created = githubCalls.find(c => c.method === 'POST')!;
  assert.equal(created.auth, 'Bearer ghp_test_token');
  assert.deepEqual(created.body, { title: 'Add the thing', body: 'Made by a run.', head: run.branch, base: 'main' });
  // Again: GitHub says it exists (422); the open one is answered.
  const again = await k.request('POST', `/api/runs/${id}/pull-request`, { token: user.token, body: { title: 'Add the thing' } });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.items[0].number, 7);
  assert.equal(again.body.items[0].existing, true);
  assert.equal(pulls.length, 1);

  const st = await k.request('GET', `/api/projects/${projectId}/branches/pr-status`, { token: user.token });
  assert.equal(st.status, 200, st.text);
  const mine = st.body.items.find((i: any) => i.branch === run.branch);
  assert.deepEqual(mine.pull_request, { number: 7, url: 'https://github.com/acme/app/pull/7', state: 'open', merged: false, head_sha: 'abc123', checks: { state: 'success', total: 2 }, review: 'approved' });
  // Another user sees none of it.
  const other = await k.createUser();
  assert.equal((await k.request('GET', `/api/projects/${projectId}/branches/pr-status`, { token: other.token })).status, 404);
});

test('run events from the CLIs\' structured output (recorded claude-code stream-json and codex --json), and tasks from TaskCreate/TaskUpdate', async () => {
  const fixtures = join(__dirname, 'fixtures');
  const eventsOf = async (cli: string, binary: string) => {
    const a = await k.request('POST', '/api/agents', { token: k.adminToken, body: { name: `rec-${cli}`, kind: 'cli', cli_name: cli, provider_config: { binary: join(fixtures, binary) } } });
    assert.equal(a.status, 201, a.text);
    const r = await k.request('POST', '/api/runs', { token: user.token, body: { agent_id: a.body.id, task: 'survey', project_id: projectId } });
    assert.equal(r.status, 201, r.text);
    assert.equal((await settledOf(r.body.id)).status, 'completed');
    const ev = await k.request('GET', `/api/runs/${r.body.id}/events?limit=5000`, { token: user.token });
    return { id: r.body.id as string, events: (ev.body.items as any[]).filter(e => /^(session|agent)\./.test(e.type)) };
  };
  const claude = await eventsOf('claude-code', 'fake-claude.sh');
  assert.deepEqual(claude.events.map(e => e.type), [
    'session.init', 'agent.token', 'agent.message', 'agent.tool_call', 'agent.tool_result',
    'agent.tool_call', 'agent.subagent_start', 'agent.tool_call', 'agent.tool_result', 'agent.tool_result', 'agent.subagent_stop',
    'agent.tool_call', 'agent.tool_result', 'agent.message', 'agent.needs_attention',
  ]);
  assert.deepEqual(claude.events[0].data, { session_id: '5b1c8f2e-0d1a-4c7e-9a57-3f1f2a9d0c11', cli_version: '2.0.14', model: 'claude-sonnet-4-5-20250929' });
  assert.deepEqual(claude.events[6].data, { agent: 'Explore', description: 'Survey the code', tool_use_id: 'toolu_02' });
  assert.match(claude.events[14].data.message, /WebFetch/);
  const tasks = await k.request('GET', `/api/runs/${claude.id}/tasks`, { token: user.token });
  assert.deepEqual(tasks.body.items, [{ id: '1', content: 'Read the README', description: 'Find what to change', activeForm: 'Reading the README', status: 'completed' }]);

  const codex = await eventsOf('codex', 'fake-codex.sh');
  assert.deepEqual(codex.events.map(e => [e.type, e.data.tool ?? null]), [
    ['session.init', null], ['agent.tool_call', 'command_execution'], ['agent.tool_result', 'command_execution'],
    ['agent.tool_call', 'command_execution'], ['agent.tool_result', 'command_execution'], ['agent.message', null],
  ]);
  assert.equal(codex.events[0].data.session_id, '0199a213-81c0-7800-8aa1-bbab2a035a53');
  assert.equal(codex.events[2].data.is_error, false);
  assert.equal(codex.events[4].data.is_error, true);
  assert.equal(codex.events[5].data.text, 'The repository has a README and src.txt.');
});
