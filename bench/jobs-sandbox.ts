// The process sandbox's cost, sandboxed vs not in one run: the added start-up time of a command
// job (goal < 150 ms median; attempt start → finish of `true`, run one at a time) and command-job
// throughput (400 jobs of `true`, concurrency 4). Also the bare cost of wrap + spawn + exit of
// /bin/true through the kernel's sandbox service. Prints one JSON line.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestKernel, waitFor, type TestKernel } from '../testing';
import { KernelSandbox } from '../core/sandbox/kernel-sandbox';

const ROOT = join(__dirname, '..');
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const p90 = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length * 0.9)]; };
const ms = (x: number) => +x.toFixed(1);

const kernelWith = (sandbox: 'auto' | 'off') => createTestKernel({
  plugins: [{ path: join(ROOT, 'plugins', 'jobs'), config: { sandbox, concurrency: 4, pollMs: 1000 } }],
});

/** Attempt durations of `true`, one job at a time (so the machine is otherwise quiet). */
async function startupTimes(k: TestKernel, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = (await k.request('POST', '/api/jobs', { body: { kind: 'command', request: { argv: ['/bin/true'] } } })).body.id;
    const d = await waitFor(async () => { const r = (await k.request('GET', `/api/jobs/${id}`)).body; return r.job.state === 'done' && r; }, 'job done', 10_000, 2);
    const a = d.attempts[d.attempts.length - 1];
    out.push(Date.parse(a.endedAt) - Date.parse(a.startedAt));
  }
  return out;
}

async function throughput(k: TestKernel, n: number): Promise<number> {
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await k.request('POST', '/api/jobs', { body: { kind: 'command', request: { argv: ['/bin/true'] } } })).body.id);
  await waitFor(async () => {
    const s = (await k.request('GET', '/api/dispatcher/status')).body;
    return s.counts.done >= n + 30 + 10 ? true : undefined;
  }, 'all jobs done', 300_000, 20);
  return n / ((performance.now() - t0) / 1000);
}

/** wrap + spawn + exit of /bin/true, through the service and plainly. */
async function bare(n: number): Promise<{ sandboxed: number[]; plain: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'plinth-bench-sbx-'));
  const sb = new KernelSandbox({ hidden: [] });
  const run = (file: string, args: string[]) => new Promise<void>((resolve, reject) => spawn(file, args, { cwd: dir, env: { PATH: '/usr/bin:/bin' } }).on('exit', () => resolve()).on('error', reject));
  const sandboxed: number[] = []; const plain: number[] = [];
  for (let i = 0; i < n + 5; i++) {
    let t = performance.now();
    const w = await sb.wrap({ file: '/bin/true', args: [], cwd: dir, env: { PATH: '/usr/bin:/bin' }, writable: [dir] });
    await run(w.file, w.args);
    w.release();
    if (i >= 5) sandboxed.push(performance.now() - t);
    t = performance.now();
    await run('/bin/true', []);
    if (i >= 5) plain.push(performance.now() - t);
  }
  await sb.close();
  return { sandboxed, plain };
}

async function main() {
  const direct = await bare(40);
  const on = await kernelWith('auto');
  const off = await kernelWith('off');
  try {
    process.stderr.write('start-up: 30 jobs each, alternating warm-up of 10\n');
    await startupTimes(on, 10); await startupTimes(off, 10);
    const sOn = await startupTimes(on, 30);
    const sOff = await startupTimes(off, 30);
    process.stderr.write('throughput: 400 jobs each\n');
    const tOn = await throughput(on, 400);
    const tOff = await throughput(off, 400);
    const added = median(sOn) - median(sOff);
    process.stdout.write(JSON.stringify({
      bench: 'jobs-sandbox', database: 'sqlite', mechanism: (await on.kernel.sandbox.status()).mechanism,
      jobStartupMedianMs: { sandboxed: ms(median(sOn)), unsandboxed: ms(median(sOff)), added: ms(added) },
      jobStartupP90Ms: { sandboxed: ms(p90(sOn)), unsandboxed: ms(p90(sOff)) },
      spawnTrueMedianMs: { sandboxed: ms(median(direct.sandboxed)), plain: ms(median(direct.plain)), added: ms(median(direct.sandboxed) - median(direct.plain)) },
      commandJobsPerSec: { sandboxed: Math.round(tOn), unsandboxed: Math.round(tOff), ratio: +(tOn / tOff).toFixed(2) },
      goals: { addedStartupMedianMs: 150 }, met: { addedStartupMedianMs: added < 150 },
    }) + '\n');
  } finally {
    await on.stop();
    await off.stop();
  }
}

main().catch(err => { console.error(err); process.exit(1); });
