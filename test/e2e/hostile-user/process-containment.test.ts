/**
 * Issue 12 hardening, "contain every process": whatever a child process the platform starts, and
 * however it ends (a cancel, the kernel's SIGTERM, its SIGKILL), nothing it started is left running.
 * Each child carries a unique marker in its command line (`sleep 86400.<digits>`), and the test
 * walks /proc for it. The reproduction was a sandboxed command job cancelled while it was still
 * starting: the kill reached the outer bwrap, the sandboxed process inside ran on, with no parent.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
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

/** Fails naming what is still running once `ms` passed; kills it so that no test leaves it behind. */
async function noneLeft(marks: string[], ms: number, what: string): Promise<void> {
  try {
    await waitFor(() => marks.every(m => holding(m).length === 0), what, ms);
  } catch {
    const left = marks.flatMap(holding);
    for (const pid of left) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    assert.fail(`${what}: still running: ${left.map(describeProc).join('; ')}`);
  }
}

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
    await noneLeft(marks, 10_000, 'the cancelled jobs\' processes to end');
    k.child.kill('SIGTERM');
    await k.exited;
    await noneLeft([alive], 10_000, 'the running job\'s process to end with its kernel');
  });

  for (const delay of DELAYS_MS) {
    test(`the kernel SIGTERMed ${delay} ms after the job was queued`, async () => {
      const k = await startKernel(mkdtempSync(join(tmpdir(), 'plinth-contain-')), jobsOnly());
      const mark = marker();
      await startJob(k, mark);
      await new Promise(r => setTimeout(r, delay));
      k.child.kill('SIGTERM');
      await k.exited;
      await noneLeft([mark], 10_000, 'the job\'s process to end with its kernel');
    });
  }
});
