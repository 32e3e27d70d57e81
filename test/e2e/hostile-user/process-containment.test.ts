/**
 * Issue 12 hardening, "contain every process": whatever a child process the platform starts, and
 * however it ends (a cancel, the kernel's SIGTERM, its SIGKILL), nothing it started is left running.
 * Each child carries a unique marker in its command line (`sleep 86400.<digits>`), and the test
 * walks /proc for it and for every descendant the kernel had. The reproduction was a sandboxed
 * command job cancelled while it was still starting: the whole sandbox ran on, with no parent.
 * After a SIGKILL nothing is left for the next kernel to reap: every sandboxed program's bwrap is
 * the kernel's own child with `--die-with-parent`, the sandbox runtime's socat bridge dies with
 * the kernel too (bin/socat-dies-with-parent.sh), and Chromium exits when playwright's pipe closes.
 * Not here: mesh's `plinth peer hook`, which belongs to a tmux pane's agent, outlives kernel
 * restarts by design and exits when that agent does (cli/peer-hook.ts).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from 'plinth/testing';
import { ROOT, plugin } from '../helpers';

/** A `sleep` whose argument names it: `86400.` and twelve random digits (GNU sleep takes fractions). */
const marker = () => `86400.${String(randomInt(1e11, 1e12))}`;

/** The pids of live (not zombie) processes whose command line holds the marker. */
function holding(mark: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(mark)) continue;
      if (/^State:\s+Z/m.test(readFileSync(`/proc/${name}/status`, 'utf8'))) continue;
      pids.push(Number(name));
    } catch { /* gone meanwhile */ }
  }
  return pids;
}

const describeProc = (pid: number) => {
  try { return `${pid} (${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 80)}…) ppid ${/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]}`; } catch { return String(pid); }
};

/** Fails naming what `left()` still finds once `ms` passed; kills that, so that no test leaves it behind. */
async function noneLeft(left: () => number[], ms: number, what: string): Promise<void> {
  try {
    await waitFor(() => left().length === 0, what, ms);
  } catch {
    const pids = left();
    const described = pids.map(describeProc).join('; ');
    for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    assert.fail(`${what}: still running: ${described}`);
  }
}

const holdingAny = (marks: string[]) => () => marks.flatMap(holding);

/** Process identity: the pid and its start time, so that a reused pid is never taken for a survivor. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch { return undefined; }
}

/** Every live descendant of `root`, as `pid:starttime`. */
function descendants(root: number): string[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      (children.get(ppid) ?? children.set(ppid, []).get(ppid)!).push(Number(name));
    } catch { /* gone */ }
  }
  const out: string[] = [];
  const visit = (pid: number) => { for (const c of children.get(pid) ?? []) { const t = startTime(c); if (t) out.push(`${c}:${t}`); visit(c); } };
  visit(root);
  return out;
}

/** The pids of `tree` still running (the same processes: same pid and start time). */
const stillAlive = (tree: string[]) => () => tree.filter(id => { const [pid, t] = id.split(':'); return startTime(Number(pid)) === t; }).map(id => Number(id.split(':')[0]));

const kernels: ChildProcess[] = [];
const allMarks: string[] = [];
after(async () => {
  await Promise.all(kernels.map(c => c.exitCode !== null || c.signalCode !== null ? undefined : new Promise(resolve => { c.once('exit', resolve); c.kill('SIGKILL'); })));
  for (const pid of allMarks.flatMap(holding)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
});

interface Kernel {
  child: ChildProcess; baseUrl: string; dataDir: string; registry: string;
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  exited: Promise<void>;
}

/** A kernel as `npm start` runs it, with the plugins that start processes, on `dir` (kept across restarts). */
async function startKernel(dir: string, plugins: unknown[]): Promise<Kernel> {
  const dataDir = join(dir, 'data');
  const registry = join(dir, 'registry.json');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(registry, JSON.stringify({ plugins }));
  const adminToken = 'plt_contain_' + randomBytes(16).toString('hex');
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'plinth.js'), 'start'], {
    env: { ...process.env, PLINTH_ADMIN_TOKEN: adminToken, PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry, PLINTH_PORT: '0', PLINTH_WATCH: '0', PLINTH_LOG_STDOUT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  kernels.push(child);
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
  let out = '';
  child.stdout!.on('data', d => { out += d; });
  child.stderr!.on('data', d => { out += d; });
  const baseUrl = await waitFor(() => /listening on (http:\/\/\S+)/.exec(out)?.[1], 'the kernel to listen', 30_000);
  const request = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(baseUrl + path, {
      method, headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed: any; try { parsed = JSON.parse(text); } catch { parsed = undefined; }
    return { status: res.status, body: parsed, text };
  };
  return { child, baseUrl, dataDir, registry, request, exited };
}

const jobsOnly = () => [{ id: 'jobs', ...plugin('jobs'), enabled: true, config: { allowUserCommands: true, sandbox: 'required', pollMs: 50, defaultMaxRetries: 0 } }];

async function startJob(k: Kernel, mark: string): Promise<string> {
  const r = await k.request('POST', '/api/jobs', { kind: 'command', request: { argv: ['sleep', mark] } });
  assert.equal(r.status, 201, r.text);
  allMarks.push(mark);
  return r.body.id;
}

const DELAYS_MS = [0, 30, 100, 250, 600, 1500];

describe('a sandboxed command job ended while it starts leaves nothing running', () => {
  test('cancelled at several delays after it was queued', async () => {
    const k = await startKernel(mkdtempSync(join(tmpdir(), 'plinth-contain-')), jobsOnly());
    const marks: string[] = [];
    for (const delay of DELAYS_MS) {
      const mark = marker();
      marks.push(mark);
      const id = await startJob(k, mark);
      await new Promise(r => setTimeout(r, delay));
      const c = await k.request('POST', `/api/jobs/${id}/cancel`);
      assert.equal(c.status, 200, c.text);
    }
    // Shown alive first (one more job, not cancelled), so that "none left" is not vacuous.
    const alive = marker();
    await startJob(k, alive);
    await waitFor(() => holding(alive).length > 0, 'the uncancelled sandboxed sleep to run', 20_000);
    await noneLeft(holdingAny(marks), 10_000, 'the cancelled jobs\' processes to end');
    k.child.kill('SIGTERM');
    await k.exited;
    await noneLeft(holdingAny([alive]), 10_000, 'the running job\'s process to end with its kernel');
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    for (const delay of DELAYS_MS) {
      test(`the kernel ${signal}ed ${delay} ms after the job was queued`, async () => {
        const k = await startKernel(mkdtempSync(join(tmpdir(), 'plinth-contain-')), jobsOnly());
        const mark = marker();
        await startJob(k, mark);
        await new Promise(r => setTimeout(r, delay));
        const tree = descendants(k.child.pid!);
        k.child.kill(signal);
        await k.exited;
        await noneLeft(holdingAny([mark]), 10_000, 'the job\'s process to end with its kernel');
        await noneLeft(stillAlive(tree), 10_000, 'every descendant of the kernel to end with it');
      });
    }
  }
});

// ------------------------------------------------------------------ one child process of each kind

const PEEK = join(__dirname, 'fixtures', 'peek-server.js');
const SANDBOXED_PLUGIN = join(__dirname, 'fixtures', 'hostile-plugin');

function makeRepo(dir: string): string {
  const repo = join(dir, 'repos', 'app');
  mkdirSync(repo, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'README.md'), 'hello\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'first');
  return repo;
}

interface Marks { job: string; run: string; mcp: string }

/** Every plugin that starts processes, each sandboxed where it can be (Chromium has its own: see plugins/browser/src/chromium.ts). */
const everyKind = (dir: string, marks: Marks) => [
  { id: 'agents', ...plugin('agents'), enabled: true, config: {} },
  { id: 'runs', ...plugin('runs'), enabled: true, config: { repoRoots: [join(dir, 'repos')], sandbox: 'required' } },
  ...jobsOnly(),
  { id: 'mcp', ...plugin('mcp'), enabled: true, config: { mcpServers: { peek: {
    // A server that leaves a process of its own behind it, as a real one might.
    command: '/bin/sh', args: ['-c', `sleep ${marks.mcp} & exec "$0" "$@"`, process.execPath, PEEK, '/nonexistent', '/nonexistent'], risk: 'safe', readable: [ROOT], sandbox: true,
  } } } },
  { id: 'browser', ...plugin('browser'), enabled: true, config: {} },
  { id: 'hostile', path: SANDBOXED_PLUGIN, enabled: true, isolation: 'sandbox' },
];

/** Starts one process of each kind and waits until each is running; answers the kernel's process tree. */
async function startEveryKind(k: Kernel, dir: string, marks: Marks): Promise<string[]> {
  await startJob(k, marks.job);
  const agent = await k.request('POST', '/api/agents', { kind: 'cli', name: 'sleeper', cli_name: 'command', provider_config: { command: '/bin/sh', args: ['-c', `sleep ${marks.run}`] } });
  assert.equal(agent.status, 201, agent.text);
  const project = (await k.request('POST', '/api/projects', { name: 'p' })).body;
  const repo = await k.request('POST', `/api/projects/${project.id}/repos`, { name: 'app', repo_path: makeRepo(dir) });
  assert.equal(repo.status, 201, repo.text);
  const run = await k.request('POST', '/api/runs', { agent_id: agent.body.id, task: 'sleep', project_id: project.id });
  assert.equal(run.status, 201, run.text);
  allMarks.push(marks.run, marks.mcp);
  const browser = await k.request('POST', '/api/browser/start');
  assert.ok(browser.status < 300, browser.text);
  await waitFor(async () => (await k.request('GET', '/api/hostile/own-write')).body?.ok, 'the sandboxed plugin to answer', 30_000);
  for (const [what, mark] of Object.entries(marks)) await waitFor(() => holding(mark).length > 0, `the ${what}'s process to run`, 30_000);
  const tree = descendants(k.child.pid!);
  const cmdlines = tree.map(id => { try { return readFileSync(`/proc/${id.split(':')[0]}/cmdline`, 'utf8'); } catch { return ''; } }).join('\n');
  assert.match(cmdlines, /--plinth-browser=/, 'Chromium runs under the kernel');
  assert.match(cmdlines, /hostile/, 'the sandboxed plugin runs under the kernel');
  return tree;
}

describe('every child process the platform starts ends with its kernel', () => {
  /** A kernel running one child process of each kind, and its process tree. */
  async function kernelWithEveryKind() {
    const dir = mkdtempSync(join(tmpdir(), 'plinth-contain-'));
    const marks = { job: marker(), run: marker(), mcp: marker() };
    const k = await startKernel(dir, everyKind(dir, marks));
    return { dir, marks, k, tree: await startEveryKind(k, dir, marks) };
  }

  test('SIGTERM: the kernel stops each of them on its way out', async () => {
    const { k, tree } = await kernelWithEveryKind();
    k.child.kill('SIGTERM');
    await k.exited;
    await noneLeft(stillAlive(tree), 15_000, 'every descendant of the SIGTERMed kernel to end');
  });

  test('SIGKILL: they die with the kernel (nothing is left for the next one to reap)', async () => {
    const { dir, marks, k, tree } = await kernelWithEveryKind();
    k.child.kill('SIGKILL');
    await k.exited;
    await noneLeft(stillAlive(tree), 15_000, 'every descendant of the SIGKILLed kernel to die with it');
    // And a restart on the same data dir starts again cleanly (the job is reclaimed, not run twice beside an orphan).
    const again = await startKernel(dir, everyKind(dir, marks));
    assert.equal((await again.request('GET', '/api/health')).status, 200);
    again.child.kill('SIGTERM');
    await again.exited;
  });
});
