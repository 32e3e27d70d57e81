import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NGINX } from '../helpers/cluster';
import { chaosFailures, runChaos } from './chaos';

const PG = process.env.PLINTH_TEST_POSTGRES_URL;

// The short chaos run (`npm run chaos` is the long one): two SIGKILLs in 16 s of workload.
test('chaos: three kernels behind nginx, a random one SIGKILLed and restarted under a mixed workload', {
  skip: !PG ? 'PLINTH_TEST_POSTGRES_URL not set' : !NGINX ? 'nginx is not installed' : false, timeout: 180_000,
}, async () => {
  const t0 = Date.now();
  const f = await runChaos({ postgresUrl: PG!, durationMs: 16_000, killEveryMs: 5_500, log: m => console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${m}`) });
  console.log(JSON.stringify(f));
  assert.ok(f.kills >= 1, 'a kernel was killed');
  // Lower bounds that hold on a busy shared machine too (a load average of 30 halves the traffic).
  assert.ok(f.notes.acked > 5 && f.jobs.acked > 2 && f.sessions.acked > 3 && f.schedules.expectedFires > 10 && f.telegram.acked > 5 && f.approvals.requests > 3, `the workload ran: ${JSON.stringify(f)}`);
  assert.ok(f.jobs.sideEffects <= f.jobs.attempts && f.jobs.sideEffects >= f.jobs.done, "at most one side effect per attempt, one per done job");
  assert.deepEqual(chaosFailures(f), []);
});
