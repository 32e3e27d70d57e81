// Jobs on PostgreSQL (issue 15), one run: N no-op jobs enqueue → done with one kernel process and
// with three on the same database, and graphile-worker 0.16 (a well-kept PostgreSQL job queue) on
// a database of its own with the same no-op task, the same concurrency and the same enqueue
// parallelism. Goals: ≥ 0.5× graphile-worker's throughput; three kernels ≥ 2× one. Dispatch
// latency under a paced load is `jobs-throughput`'s (SQLite); this one is about throughput.
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freshPostgresDatabase } from '../testing';
import { ROOT, log, registryWith, round, spawnServer, tempDataDir, type Child } from './_lib';

const BASE = process.env.PLINTH_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';
const N = Number(process.env.BENCH_JOBS || 5000);
const CONCURRENCY = 32;
const PARALLEL_ENQUEUE = 16;
const { Client } = require('pg');

async function waitUntil(fn: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`${what} not within ${timeoutMs} ms`);
    await new Promise(r => setTimeout(r, 20));
  }
}

/** Starts kernel processes on `databaseUrl`; jobs dispatch with `concurrency` slots each (0: none). */
async function startKernels(count: number, databaseUrl: string, token: string, concurrency: number): Promise<Child[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => {
    const dir = tempDataDir(`jobs-cluster-${i}`);
    const registry = registryWith(dir, [
      { id: 'jobs', path: join(ROOT, 'plugins', 'jobs'), config: { concurrency, pollMs: 200, heartbeatMs: 5000 } },
      { id: 'bench-noop', path: join(ROOT, 'bench', 'fixtures', 'bench-noop') },
    ]);
    return spawnServer([join(ROOT, 'bin', 'plinth.js'), 'start'], {
      PLINTH_DATABASE_URL: databaseUrl, PLINTH_PORT: '0', PLINTH_ADMIN_TOKEN: token, PLINTH_DATA_DIR: dir, PLINTH_REGISTRY: registry, PLINTH_WATCH: '0', PLINTH_LOG_STDOUT: '0',
    }, 60_000);
  }));
}

/**
 * The backlog method (as graphile-worker's own perf test): N jobs are enqueued by a kernel that
 * does not dispatch (its enqueue rate is measured on the way), then `kernels` dispatching kernels
 * start together and drain the backlog; the rate counts from when all are up.
 */
async function plinth(kernels: number) {
  const db = await freshPostgresDatabase(BASE);
  const token = 'plt_bench_' + randomBytes(12).toString('hex');
  const pg = new Client({ connectionString: db.databaseUrl });
  let children: Child[] = [];
  try {
    children = await startKernels(1, db.databaseUrl, token, 0);
    const res = await fetch(children[0].baseUrl + '/api/bench-noop/enqueue', {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ n: N, parallel: PARALLEL_ENQUEUE }),
    });
    const { enqueueMs } = await res.json() as { enqueueMs: number };
    await Promise.all(children.map(c => c.stop()));
    await pg.connect();
    const table = (await pg.query(`SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%jobs' ORDER BY length(table_name) LIMIT 1`)).rows[0].table_name;
    const doneCount = async () => Number((await pg.query(`SELECT count(*) AS n FROM ${table} WHERE state = 'done'`)).rows[0].n);
    children = await startKernels(kernels, db.databaseUrl, token, CONCURRENCY);
    const start = performance.now();
    const doneAtStart = await doneCount();
    await waitUntil(async () => (await doneCount()) >= N, 300_000, `${N} jobs done`);
    const elapsedMs = performance.now() - start;
    return { kernels, jobs: N, jobsPerSec: Math.round((N - doneAtStart) / (elapsedMs / 1000)), drainMs: Math.round(elapsedMs), doneBeforeAllUp: doneAtStart, enqueuePerSec: Math.round(N / (enqueueMs / 1000)) };
  } finally {
    await pg.end().catch(() => undefined);
    await Promise.all(children.map(c => c.stop()));
    await db.dropDatabase();
  }
}

/** The same backlog for graphile-worker: jobs added first, then one worker (this process) drains them. */
async function graphileWorker() {
  const { run, makeWorkerUtils, Logger } = require('graphile-worker');
  const db = await freshPostgresDatabase(BASE);
  let done = 0;
  const utils = await makeWorkerUtils({ connectionString: db.databaseUrl, logger: new Logger(() => () => undefined) });
  let runner: any;
  // A pool of our own, ended before the database is dropped: graphile's own pool could still hold an
  // idle connection there, whose termination is an unhandled 'error' that killed the bench.
  const { Pool } = require('pg');
  const pgPool = new Pool({ connectionString: db.databaseUrl, max: CONCURRENCY + 4 });
  pgPool.on('error', () => undefined);
  try {
    await utils.migrate();
    const t = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: PARALLEL_ENQUEUE }, async () => { while (next < N) { next++; await utils.addJob('noop', {}); } }));
    const enqueueMs = performance.now() - t;
    const start = performance.now();
    runner = await run({
      pgPool, concurrency: CONCURRENCY, noHandleSignals: true, pollInterval: 200, logger: new Logger(() => () => undefined),
      taskList: { noop: async () => { done++; } },
    });
    await waitUntil(async () => done >= N, 300_000, `${N} jobs done`);
    const elapsedMs = performance.now() - start;
    return { jobs: N, jobsPerSec: Math.round(N / (elapsedMs / 1000)), drainMs: Math.round(elapsedMs), enqueuePerSec: Math.round(N / (enqueueMs / 1000)) };
  } finally {
    await utils.release();
    await runner?.stop();
    await pgPool.end();
    await db.dropDatabase();
  }
}

async function main() {
  log(`graphile-worker: ${N} no-op jobs`);
  const gw = await graphileWorker();
  log(JSON.stringify(gw));
  log(`plinth, 1 kernel: ${N} no-op jobs`);
  const one = await plinth(1);
  log(JSON.stringify(one));
  log(`plinth, 3 kernels: ${N} no-op jobs`);
  const three = await plinth(3);
  log(JSON.stringify(three));
  const vsGraphile = round(one.jobsPerSec / gw.jobsPerSec);
  const scaling = round(three.jobsPerSec / one.jobsPerSec);
  process.stdout.write(JSON.stringify({
    bench: 'jobs-cluster', database: 'postgres', graphileWorker: gw, oneKernel: one, threeKernels: three,
    ratioVsGraphileWorker: vsGraphile, ratioThreeVsOne: scaling, loadAverage: require('node:os').loadavg().map((l: number) => round(l, 1)),
    goals: { ratioVsGraphileWorker: 0.5, ratioThreeVsOne: 2 }, met: { ratioVsGraphileWorker: vsGraphile >= 0.5, ratioThreeVsOne: scaling >= 2 },
  }) + '\n');
}

main().catch(err => { console.error(err); process.exit(1); });
