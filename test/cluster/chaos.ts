import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startKernelCluster, until } from '../helpers/cluster';

const ROOT = join(__dirname, '..', '..');

export interface ChaosFigures {
  durationS: number; kills: number;
  notes: { acked: number; stored: number; lost: number };
  jobs: { acked: number; done: number; notDone: number; attempts: number; lostAttempts: number; sideEffects: number; mismatched: number };
  requests: { total: number; ok: number; status5xx: number; status5xxOutsideDowntime: number; networkErrors: number };
}

/**
 * Three kernels behind nginx on one PostgreSQL; notes and command jobs (one ledger line per start)
 * created through the balancer while a random kernel is SIGKILLed every `killEveryMs` and started
 * again. Afterwards: every acknowledged note stored, every acknowledged job done with exactly one
 * side effect per counted attempt, and 5xx answers only while a kernel was down.
 */
export async function runChaos(o: { postgresUrl: string; durationMs: number; killEveryMs: number; log?: (m: string) => void }): Promise<ChaosFigures> {
  const log = o.log ?? (() => undefined);
  const jobsConfig = { concurrency: 3, pollMs: 100, heartbeatMs: 300, leaseMs: 2000, defaultMaxRetries: 10, backoffBaseMs: 100, backoffMaxMs: 500 };
  const cluster = await startKernelCluster({
    postgresUrl: o.postgresUrl,
    plugins: () => [
      { id: 'notes', path: join(ROOT, 'test', 'fixtures', 'notes') },
      { id: 'jobs', path: join(ROOT, 'plugins', 'jobs'), config: jobsConfig },
    ],
  });
  const { lb, adminToken } = cluster;
  const post = (path: string, body: unknown) => fetch(lb + path, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  const downtime: Array<[number, number]> = [];
  const fivexx: number[] = [];
  const req = { total: 0, ok: 0, networkErrors: 0 };
  const notes: string[] = [];
  const jobs: string[] = [];
  let running = true;
  const call = async (path: string, body: unknown, acked: string[]) => {
    req.total++;
    try {
      const r = await post(path, body);
      if (r.status >= 500) fivexx.push(Date.now());
      if (r.status === 201) { req.ok++; acked.push(((await r.json()) as any).id); } else await r.body?.cancel();
    } catch { req.networkErrors++; }
  };
  const writer = async (every: number, fn: () => Promise<void>) => { while (running) { await fn(); await new Promise(r => setTimeout(r, every)); } };
  const started = Date.now();
  let kills = 0;
  const killer = (async () => {
    while (Date.now() - started < o.durationMs - o.killEveryMs / 2) {
      await new Promise(r => setTimeout(r, o.killEveryMs));
      const i = Math.floor(Math.random() * cluster.kernels.length);
      const from = Date.now();
      log(`SIGKILL kernel ${i}`);
      await cluster.kill(i);
      kills++;
      await new Promise(r => setTimeout(r, 1000));
      await cluster.restart(i);
      downtime.push([from, Date.now()]);
    }
  })();
  const writers = [
    writer(50, () => call('/api/notes', { text: `note ${Date.now()}` }, notes)),
    writer(400, () => call('/api/jobs', { kind: 'command', request: { command: 'echo $PLINTH_JOB_ID >> ledger.txt; sleep 0.3' } }, jobs)),
  ];
  await new Promise(r => setTimeout(r, o.durationMs));
  running = false;
  await Promise.all([killer, ...writers]);
  log('workload over; waiting for jobs to settle');
  try {
    const get = async (path: string) => (await fetch(lb + path, { headers: { authorization: `Bearer ${adminToken}` } })).json() as Promise<any>;
    const details = await until(async () => {
      const ds = await Promise.all(jobs.map(id => get(`/api/jobs/${id}`)));
      return ds.every(d => ['done', 'failed'].includes(d.job?.state)) ? ds : undefined;
    }, 60_000, 'every acknowledged job finished').catch(async () => Promise.all(jobs.map(id => get(`/api/jobs/${id}`))));
    const lines = new Map<string, number>();
    for (const dir of cluster.dataDirs) {
      const work = join(dir, 'plugins', 'jobs', 'work');
      if (!existsSync(work)) continue;
      for (const id of readdirSync(work)) {
        const f = join(work, id, 'ledger.txt');
        if (existsSync(f)) for (const l of readFileSync(f, 'utf8').trim().split('\n').filter(Boolean)) lines.set(l, (lines.get(l) ?? 0) + 1);
      }
    }
    const stored = new Set(((await get('/api/notes')).items as any[]).map(n => n.id));
    const attempts = details.reduce((n, d) => n + (d.attempts?.length ?? 0), 0);
    const outside = fivexx.filter(t => !downtime.some(([a, b]) => t >= a - 500 && t <= b + 3000)).length;
    return {
      durationS: Math.round((Date.now() - started) / 1000), kills,
      notes: { acked: notes.length, stored: notes.filter(id => stored.has(id)).length, lost: notes.filter(id => !stored.has(id)).length },
      jobs: {
        acked: jobs.length, done: details.filter(d => d.job?.state === 'done').length, notDone: details.filter(d => d.job?.state !== 'done').length,
        attempts, lostAttempts: details.reduce((n, d) => n + (d.attempts ?? []).filter((a: any) => a.outcome === 'lost').length, 0),
        sideEffects: [...lines.values()].reduce((a, b) => a + b, 0),
        // Every attempt that ended (done or failed) wrote its line once; an attempt lost with its
        // kernel may or may not have got as far as the command (at-least-once, counted).
        mismatched: details.filter(d => {
          const n = lines.get(d.job.id) ?? 0;
          const all = d.attempts?.length ?? 0;
          const ended = (d.attempts ?? []).filter((a: any) => a.outcome !== 'lost').length;
          return n < ended || n > all;
        }).length,
      },
      requests: { ...req, status5xx: fivexx.length, status5xxOutsideDowntime: outside },
    };
  } finally {
    await cluster.stop();
  }
}
