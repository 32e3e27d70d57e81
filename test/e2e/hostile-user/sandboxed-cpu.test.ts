/**
 * The CPU quota of a sandboxed plugin (core/plugins/sandboxed/cpu-quota.ts): a plugin that spins
 * while still answering its heartbeat runs at a lower priority than the kernel, which keeps
 * answering /api/health throughout; once it has used its CPU allowance it is restarted, with the
 * reason given.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestKernel, waitFor, type TestKernel } from 'plinth/testing';
import { processTree } from '../../../core/plugins/sandboxed/cpu-quota';

const FIXTURE = join(__dirname, 'fixtures', 'hostile-plugin');
const stat = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
const cmdline = (pid: number) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return ''; } };

let k: TestKernel;
const spins = async () => (await k.request('GET', '/api/hostile/spins', { token: null })).body.spins as number;
const health = async () => {
  const r = await fetch(`${k.baseUrl}/api/health`, { signal: AbortSignal.timeout(20_000) });
  assert.equal(r.status, 200);
};

before(async () => {
  // A large allowance first: the spin must outlast the health checks.
  process.env.PLINTH_SANDBOX_CPU_BURST_MS = '600000';
  k = await createTestKernel({ plugins: [{ path: FIXTURE, isolation: 'sandbox' }] });
});
after(async () => {
  await k?.stop();
  delete process.env.PLINTH_SANDBOX_CPU_BURST_MS;
  delete process.env.PLINTH_SANDBOX_CPU_PERCENT;
});

test('the plugin\'s node runs niced; while it spins the kernel answers /api/health, and the spin goes on', async () => {
  const node = processTree(process.pid).find(pid => cmdline(pid).startsWith(`${process.execPath}\0`) && cmdline(pid).includes('--max-old-space-size=64'));
  assert.ok(node, 'the sandboxed node process is below the kernel');
  assert.equal(stat(node)[16], '10', 'its nice value');
  assert.equal(stat(process.pid)[16], '0', 'the kernel\'s is untouched');

  assert.deepEqual((await k.request('GET', '/api/hostile/spin', { token: null })).body, { spinning: true });
  const first = await waitFor(spins, 'the spin started', 20_000);
  for (let i = 0; i < 10; i++) await health();
  assert.ok(await spins() > first, 'it was spinning while the kernel answered');
  assert.equal((await k.request('GET', '/api/plugins/hostile')).body.status, 'active');
});

test('past its CPU allowance the plugin is restarted, the reason given; the kernel answered throughout', async () => {
  // A rate a spinning plugin exceeds even when a loaded machine gives its niced process little.
  process.env.PLINTH_SANDBOX_CPU_PERCENT = '0.1';
  process.env.PLINTH_SANDBOX_CPU_BURST_MS = '100';
  // A new process, which reads the quota when it starts.
  assert.equal((await k.request('POST', '/api/plugins/hostile/reload')).status, 200);
  // Read; the process started after the crash gets the defaults.
  delete process.env.PLINTH_SANDBOX_CPU_BURST_MS;
  delete process.env.PLINTH_SANDBOX_CPU_PERCENT;
  // (On a loaded machine its setup alone may already have spent so small an allowance: the same end.)
  await k.request('GET', '/api/hostile/spin', { token: null });
  const failed = await waitFor(async () => {
    await health();
    const s = (await k.request('GET', '/api/plugins/hostile')).body;
    return s.error && /CPU quota/.test(s.error.message) ? s : undefined;
  }, 'the CPU quota to end the process', 60_000, 100);
  assert.match(failed.error.message, /more than 0\.1% of a CPU core for longer than its 0\.1 s allowance/);
  await waitFor(async () => (await k.request('GET', '/api/hostile/spins', { token: null })).status === 200, 'it serves again after the restart', 60_000);
  assert.equal(await spins(), 0, 'a new process');
});
