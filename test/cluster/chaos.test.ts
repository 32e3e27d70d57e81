import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NGINX } from '../helpers/cluster';
import { runChaos } from './chaos';

const PG = process.env.PLINTH_TEST_POSTGRES_URL;

// The short chaos run (`npm run chaos` is the long one): two SIGKILLs in 20 s.
test('chaos: three kernels behind nginx, a random one SIGKILLed and restarted under a mixed workload', {
  skip: !PG ? 'PLINTH_TEST_POSTGRES_URL not set' : !NGINX ? 'nginx is not installed' : false, timeout: 180_000,
}, async () => {
  const f = await runChaos({ postgresUrl: PG!, durationMs: 20_000, killEveryMs: 7_000 });
  console.log(JSON.stringify(f));
  assert.ok(f.kills >= 1, 'a kernel was killed');
  assert.ok(f.notes.acked > 20 && f.jobs.acked > 5, 'the workload ran');
  assert.equal(f.notes.lost, 0, 'every acknowledged note is stored');
  assert.equal(f.jobs.notDone, 0, 'every acknowledged job is done');
  assert.equal(f.jobs.mismatched, 0, 'one side effect per attempt that ended; at most one per lost attempt');
  assert.ok(f.jobs.sideEffects <= f.jobs.attempts && f.jobs.sideEffects >= f.jobs.attempts - f.jobs.lostAttempts);
  assert.equal(f.requests.status5xxOutsideDowntime, 0, 'no 5xx while every kernel was up');
});
