import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { parseAiderOutput } from '../src/aider-adapter';

const ROOT = join(__dirname, '..', '..', '..');
const FAKE_AIDER = join(__dirname, 'fixtures', 'fake-aider.js');
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();

let k: TestKernel;
let repo: string;
let projectId: string;
let user: { token: string };

before(async () => {
  repo = mkdtempSync(join(tmpdir(), 'plinth-aider-repo-'));
  git(repo, 'init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'NOTES.md'), '# notes\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'first');
  k = await createTestKernel({
    plugins: [
      { path: join(ROOT, 'plugins', 'agents') },
      { path: join(ROOT, 'plugins', 'runs'), config: { repoRoots: [tmpdir()] } },
      { path: join(__dirname, '..') },
    ],
  });
  user = await k.createUser();
  projectId = (await k.request('POST', '/api/projects', { token: user.token, body: { name: 'p' } })).body.id;
  assert.equal((await k.request('POST', `/api/projects/${projectId}/repos`, { token: user.token, body: { name: 'app', repo_path: repo } })).status, 201);
  // Only an admin names the program of a cli agent; the user runs the shared agent.
  const agent = await k.request('POST', '/api/agents', { body: { name: 'pair', kind: 'cli', cli_name: 'aider', provider_config: { binary: FAKE_AIDER, model: 'sonnet' } } });
  assert.equal(agent.status, 201, agent.text);
});
after(() => k.stop());

async function settle(id: string) {
  const end = Date.now() + 15_000;
  for (;;) {
    const run = (await k.request('GET', `/api/runs/${id}`, { token: user.token })).body;
    if (['completed', 'failed', 'cancelled'].includes(run.status)) return run;
    if (Date.now() > end) throw new Error(`run stuck in ${run.status}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

test('a run through the aider adapter edits its worktree, and its token report becomes the run result', async () => {
  const created = await k.request('POST', '/api/runs', { token: user.token, body: { agent_id: 'pair', task: 'write down the plan', project_id: projectId } });
  assert.equal(created.status, 201, created.text);
  const run = await settle(created.body.id);
  assert.equal(run.status, 'completed', JSON.stringify(run));
  const logs = (await k.request('GET', `/api/runs/${run.id}/logs`, { token: user.token })).text;
  assert.match(logs, /Applied edit to NOTES\.md \(model sonnet\)/);
  const result = typeof run.result === 'string' ? JSON.parse(run.result) : run.result;
  assert.deepEqual(result, { inputTokens: 3600, outputTokens: 400, costUsd: 0.0063 });
  const diff = JSON.stringify((await k.request('GET', `/api/runs/${run.id}/changes`, { token: user.token })).body);
  assert.match(diff, /write down the plan/);
  assert.equal(readFileSync(join(repo, 'NOTES.md'), 'utf8'), '# notes\n', 'the source repo is untouched: the run worked in its own worktree');
});

test('a failing aider fails the run; a bad provider_config is a 400 and leaves no live run', async () => {
  const failing = await k.request('POST', '/api/runs', { token: user.token, body: { agent_id: 'pair', task: 'fail', project_id: projectId } });
  assert.equal((await settle(failing.body.id)).status, 'failed');
  await k.request('POST', '/api/agents', { body: { name: 'broken', kind: 'cli', cli_name: 'aider', provider_config: { binary: 42 } } });
  const bad = await k.request('POST', '/api/runs', { token: user.token, body: { agent_id: 'broken', task: 't', project_id: projectId } });
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.body.error.message, /provider_config\.binary/);
  const runs = (await k.request('GET', `/api/runs?project_id=${projectId}`, { token: user.token })).body.items;
  // The runs plugin records the attempt; it must not be left looking alive.
  assert.deepEqual(runs.map((r: any) => r.status).sort(), ['completed', 'failed', 'failed'], JSON.stringify(runs.map((r: any) => [r.status, r.error])));
});

test('the output parser sums every exchange and keeps the session cost', () => {
  assert.equal(parseAiderOutput('nothing to see'), undefined);
  assert.deepEqual(parseAiderOutput('Tokens: 12 sent, 3 received.'), { inputTokens: 12, outputTokens: 3 });
});
