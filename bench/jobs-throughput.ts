// 10,000 no-op jobs from enqueue to done on SQLite (goal >= 1,000 jobs/s), and dispatch latency,
// ready to running, under a paced load (goal p99 < 50 ms). Prints one JSON line.
import { join } from 'node:path';
import { createTestKernel } from '../testing';

const ROOT = join(__dirname, '..');

async function main() {
  const k = await createTestKernel({
    plugins: [
      { path: join(ROOT, 'plugins', 'jobs'), config: { concurrency: 64, pollMs: 1000, heartbeatMs: 5000 } },
      { path: join(ROOT, 'bench', 'fixtures', 'bench-noop') },
    ],
  });
  try {
    process.stderr.write('warm-up\n');
    await k.request('POST', '/api/bench-noop/flood', { body: { n: 500 } });
    process.stderr.write('flood: 10,000 jobs\n');
    const flood = (await k.request('POST', '/api/bench-noop/flood', { body: { n: 10_000, parallel: 16 } })).body;
    process.stderr.write(`${JSON.stringify(flood)}\npaced: 1,000 jobs, one per 5 ms\n`);
    const paced = (await k.request('POST', '/api/bench-noop/paced', { body: { n: 1000, intervalMs: 5 } })).body;
    process.stdout.write(JSON.stringify({
      bench: 'jobs-throughput', database: 'sqlite', jobs: flood.n, jobsPerSec: Math.round(flood.jobsPerSec), elapsedMs: Math.round(flood.elapsedMs),
      enqueueMs: Math.round(flood.enqueueMs), dispatchLatencyP50Ms: +paced.p50.toFixed(2), dispatchLatencyP99Ms: +paced.p99.toFixed(2),
      dispatchLatencyMaxMs: +paced.max.toFixed(2), goals: { jobsPerSec: 1000, dispatchLatencyP99Ms: 50 },
      met: { jobsPerSec: flood.jobsPerSec >= 1000, dispatchLatencyP99Ms: paced.p99 < 50 },
    }) + '\n');
  } finally {
    await k.stop();
  }
}

main().catch(err => { console.error(err); process.exit(1); });
