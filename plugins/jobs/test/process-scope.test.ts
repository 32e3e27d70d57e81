/** process_scope per_fire means it: what a command job leaves running ends with the job; a named scope keeps it. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { until, waitForJob } from './helpers';

let k: TestKernel;
const leftovers: number[] = [];

/** Alive and not a zombie waiting for a reaper. */
function alive(pid: number): boolean {
  try { return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { return false; }
}

before(async () => {
  // Unsandboxed, so the pids the job prints are the host's (in the sandbox its PID namespace ends everything anyway).
  k = await createTestKernel({ plugins: [{ path: join(__dirname, '..'), config: { pollMs: 100, heartbeatMs: 100, defaultMaxRetries: 0, sandbox: 'off' } }] });
});
after(async () => {
  for (const pid of leftovers) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  await k?.stop();
});

const backgroundPid = async (body: Record<string, unknown>) => {
  const r = await k.request('POST', '/api/jobs', { body: { kind: 'command', request: { command: 'sleep 60 & echo $!' }, ...body } });
  assert.equal(r.status, 201, r.text);
  const d = await waitForJob(k, r.body.id, ['done', 'failed']);
  assert.equal(d.job.state, 'done', d.job.error);
  const pid = Number(d.job.result.output.trim());
  leftovers.push(pid);
  return { pid, job: d.job };
};

test('per_fire (the default): a background process the command started is killed when the job ends', async () => {
  const { pid, job } = await backgroundPid({});
  assert.equal(job.processScope, 'per_fire');
  await until(async () => !alive(pid), 5000, `background process ${pid} gone`);
});

test('a named process scope keeps what the job started running after it ends', async () => {
  const { pid, job } = await backgroundPid({ process_scope: 'warm-cache' });
  assert.equal(job.processScope, 'warm-cache');
  assert.ok(alive(pid), 'the background process outlives the job');
});
