import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestKernel, type TestKernel, waitFor } from 'plinth/testing';

export const ROOT = join(__dirname, '..', '..', '..');
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
export const SHOTS = join(ROOT, 'test-output', 'dashboard');

/** The first-party plugins the dashboard shows, in registry order, plus a fixture with a gated tool. */
export const PLUGINS = ['accounts', 'approvals', 'memory', 'skills', 'agents', 'insights', 'devices', 'wallet', 'interview', 'jobs', 'schedules', 'runs', 'mcp', 'a2a', 'channels', 'dashboard'];

export function dashboardKernel(): Promise<TestKernel> {
  return createTestKernel({
    plugins: [
      ...PLUGINS.map(id => ({ path: join(ROOT, 'plugins', id), config: id === 'approvals' ? { timeoutMs: 60_000 } : {} })),
      { path: join(__dirname, 'fixtures', 'gated-tool') },
    ],
  });
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });

/** A real git repository and a `cli` agent whose "CLI" is a shell script editing it, for the runs page. */
export async function seedRun(k: TestKernel): Promise<string> {
  const repo = mkdtempSync(join(tmpdir(), 'plinth-dash-repo-'));
  git(repo, 'init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'README.md'), 'line one\nline two\nline three\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'first');
  const script = 'echo "working on: $1"; sed -i "s/line two/line 2 (edited)/" README.md; echo "a new file" > notes.txt; echo "done"';
  const agent = await k.request('POST', '/api/agents', { body: { name: 'coder', kind: 'cli', cli_name: 'command', provider_config: { command: '/bin/sh', args: ['-c', script, 'sh', '{task}'] } } });
  if (agent.status !== 201) throw new Error(`agent: ${agent.text}`);
  const project = (await k.request('POST', '/api/projects', { body: { name: 'demo' } })).body;
  const r = await k.request('POST', `/api/projects/${project.id}/repos`, { body: { name: 'app', repo_path: repo } });
  if (r.status !== 201) throw new Error(`repo: ${r.text}`);
  const run = await k.request('POST', '/api/runs', { body: { agent_id: agent.body.id, task: 'edit the readme', project_id: project.id } });
  if (run.status !== 201) throw new Error(`run: ${run.text}`);
  return run.body.id;
}

export function shotsDir(): string {
  mkdirSync(SHOTS, { recursive: true });
  return SHOTS;
}

export const until = <T>(fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 10_000, what = 'condition'): Promise<T> =>
  waitFor(fn, what, ms, 50) as Promise<T>;
