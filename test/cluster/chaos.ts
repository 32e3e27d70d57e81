import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startKernelCluster, until } from '../helpers/cluster';
import { startFakeBotApi } from '../../plugins/telegram/test/fake-bot-api';
import { approvalsAskedAndDecided, everySecondSchedules, sessionMessages, telegramWebhooks, type ChaosContext } from './chaos-workloads';

const ROOT = join(__dirname, '..', '..');
const BOT_TOKEN = '123456:chaos';
const WEBHOOK_SECRET = 'chaos_secret';

export interface ChaosFigures {
  durationS: number; kills: number;
  notes: { acked: number; stored: number; lost: number };
  jobs: { acked: number; done: number; notDone: number; attempts: number; lostAttempts: number; sideEffects: number; mismatched: number; mismatchedJobs: unknown[] };
  sessions: Awaited<ReturnType<ReturnType<typeof sessionMessages>['check']>>;
  schedules: Awaited<ReturnType<ReturnType<typeof everySecondSchedules>['check']>>;
  telegram: ReturnType<ReturnType<typeof telegramWebhooks>['check']>;
  approvals: Awaited<ReturnType<ReturnType<typeof approvalsAskedAndDecided>['check']>>;
  requests: { total: number; ok: number; status5xx: number; status5xxOutsideDowntime: number; networkErrors: number };
}

/**
 * Three kernels behind nginx on one PostgreSQL; through the balancer, notes, command jobs (one
 * ledger line per start), streamed session messages, schedules firing every second, Telegram
 * webhooks answered through a fake Bot API, and blocking approvals — while a random kernel is
 * SIGKILLed every `killEveryMs` and started again. Afterwards each workload checks what was
 * acknowledged against the database (chaos-workloads.ts), and 5xx answers came only while a
 * kernel was down.
 */
export async function runChaos(o: { postgresUrl: string; durationMs: number; killEveryMs: number; log?: (m: string) => void }): Promise<ChaosFigures> {
  const log = o.log ?? (() => undefined);
  const jobsConfig = { concurrency: 3, pollMs: 100, heartbeatMs: 300, leaseMs: 2000, defaultMaxRetries: 10, backoffBaseMs: 100, backoffMaxMs: 500 };
  const api = await startFakeBotApi(BOT_TOKEN);
  // Leases of a few seconds, so that work held by a killed kernel is taken over within the run.
  const cluster = await startKernelCluster({
    postgresUrl: o.postgresUrl,
    env: { PLINTH_LOG_LEVEL: 'warn' },
    plugins: () => [
      { id: 'notes', path: join(ROOT, 'test', 'fixtures', 'notes') },
      { id: 'jobs', path: join(ROOT, 'plugins', 'jobs'), config: jobsConfig },
      { id: 'schedules', path: join(ROOT, 'plugins', 'schedules'), config: { pollMs: 200, leaseMs: 2000 } },
      { id: 'agents', path: join(ROOT, 'plugins', 'agents'), config: { requestTimeoutMs: 2000 } },
      { id: 'approvals', path: join(ROOT, 'plugins', 'approvals'), config: { sweepMs: 300 } },
      { id: 'channels', path: join(ROOT, 'plugins', 'channels'), config: { defaultPolicy: 'open', delivery: { concurrency: 4, pollIntervalMs: 200, backoffBaseMs: 50, backoffMaxMs: 1000, leaseMs: 10_000 }, inbound: { concurrency: 2, leaseMs: 10_000 } } },
      { id: 'telegram', path: join(ROOT, 'plugins', 'telegram'), config: { apiBaseUrl: api.url, botToken: BOT_TOKEN, webhookSecret: WEBHOOK_SECRET } },
    ],
  }).catch(async err => { await api.close(); throw err; });
  const { Client } = require('pg');
  const pg = new Client({ connectionString: cluster.databaseUrl });
  await pg.connect();
  log('cluster up; workload starts');
  const { lb, adminToken } = cluster;
  const downtime: Array<[number, number]> = [];
  const fivexx: number[] = [];
  const req = { total: 0, ok: 0, networkErrors: 0 };
  let running = true;
  const ctx: ChaosContext = {
    running: () => running,
    killTimes: [],
    sql: async (text, params) => (await pg.query(text, params)).rows,
    request: async (path, init = {}) => {
      req.total++;
      try {
        const r = await fetch(lb + path, {
          method: init.method ?? 'GET', signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
          headers: { authorization: `Bearer ${adminToken}`, accept: init.accept ?? 'application/json', ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
        });
        if (r.status >= 500) fivexx.push(Date.now());
        if (r.status < 400) req.ok++;
        return r;
      } catch { req.networkErrors++; return undefined; }
    },
  };
  const notes: string[] = [];
  const jobs: string[] = [];
  const call = async (path: string, body: unknown, acked: string[]) => {
    const r = await ctx.request(path, { method: 'POST', body });
    if (r?.status === 201) acked.push(((await r.json()) as any).id); else await r?.body?.cancel().catch(() => undefined);
  };
  const writer = async (every: number, fn: () => Promise<void>) => { while (running) { await fn(); await new Promise(r => setTimeout(r, every)); } };
  const started = Date.now();
  let kills = 0;
  // The k-th kill is due k × killEveryMs after the start, and at least half that after the last
  // restart (a restart is slow on a busy machine: the kills must not then come in a burst).
  const killer = (async () => {
    let restartedAt = started;
    for (let k = 1; ; k++) {
      const at = Math.max(started + k * o.killEveryMs, restartedAt + o.killEveryMs / 2);
      if (at - started > o.durationMs - o.killEveryMs / 2) break;
      await new Promise(r => setTimeout(r, at - Date.now()));
      const i = Math.floor(Math.random() * cluster.kernels.length);
      const from = Date.now();
      log(`SIGKILL kernel ${i}`);
      ctx.killTimes.push(from);
      await cluster.kill(i);
      kills++;
      await new Promise(r => setTimeout(r, 1000));
      await cluster.restart(i);
      downtime.push([from, restartedAt = Date.now()]);
    }
  })();
  const sessions = sessionMessages(ctx);
  const schedules = everySecondSchedules(ctx);
  const telegram = telegramWebhooks(ctx, api, { secret: WEBHOOK_SECRET, cutWindowMs: 5000 });
  const approvals = approvalsAskedAndDecided(ctx, { waitMs: 3000 });
  const writers = [
    writer(50, () => call('/api/notes', { text: `note ${Date.now()}` }, notes)),
    writer(400, () => call('/api/jobs', { kind: 'command', request: { command: 'echo $PLINTH_JOB_ID $PLINTH_JOB_ATTEMPT >> ledger.txt; sleep 0.3' } }, jobs)),
    sessions.run, schedules.run, telegram.run, approvals.run,
  ];
  try {
    await new Promise(r => setTimeout(r, o.durationMs));
    running = false;
    await Promise.all([killer, ...writers]);
    log('workload over; waiting for jobs, replies and approvals to settle');
    await Promise.all([telegram.settle(60_000), approvals.settle(20_000)]);
    log('replies and approvals settled; checking');
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
    // Each ledger line is "<job id> <attempt>". An attempt that ended done wrote exactly one line;
    // one that failed or was lost with its kernel at most one (it may have been cut, or have failed,
    // before its command ran: at-least-once, counted); no line belongs to an attempt not counted.
    const perAttempt = (d: any, n: number) => lines.get(`${d.job.id} ${n}`) ?? 0;
    const mismatched = details.filter(d => {
      const counted = new Set((d.attempts ?? []).map((a: any) => a.n));
      const stray = [...lines.keys()].some(l => l.startsWith(d.job.id + ' ') && !counted.has(Number(l.split(' ')[1])));
      return stray || (d.attempts ?? []).some((a: any) => perAttempt(d, a.n) > 1 || (a.outcome === 'done' && perAttempt(d, a.n) !== 1));
    });
    const attempts = details.reduce((n, d) => n + (d.attempts?.length ?? 0), 0);
    const outside = fivexx.filter(t => !downtime.some(([a, b]) => t >= a - 500 && t <= b + 3000)).length;
    return {
      durationS: Math.round((Date.now() - started) / 1000), kills,
      notes: { acked: notes.length, stored: notes.filter(id => stored.has(id)).length, lost: notes.filter(id => !stored.has(id)).length },
      jobs: {
        acked: jobs.length, done: details.filter(d => d.job?.state === 'done').length, notDone: details.filter(d => d.job?.state !== 'done').length,
        attempts, lostAttempts: details.reduce((n, d) => n + (d.attempts ?? []).filter((a: any) => a.outcome === 'lost').length, 0),
        sideEffects: [...lines.values()].reduce((a, b) => a + b, 0),
        mismatched: mismatched.length,
        // The first few jobs outside the rule: their ledger lines and attempts, to see why.
        mismatchedJobs: mismatched.slice(0, 3).map(d => ({ id: d.job.id, attempts: (d.attempts ?? []).map((a: any) => `${a.n}:${a.outcome}:${perAttempt(d, a.n)} line(s):${String(a.error ?? '').slice(0, 80)}`) })),
      },
      sessions: await sessions.check(), schedules: await schedules.check(), telegram: telegram.check(), approvals: await approvals.check(),
      requests: { ...req, status5xx: fivexx.length, status5xxOutsideDowntime: outside },
    };
  } finally {
    running = false;
    await pg.end().catch(() => undefined);
    await cluster.stop();
    await api.close();
  }
}

/** The checks of a chaos run, shared with `npm run chaos`: what was acknowledged survived the kills. */
export function chaosFailures(f: ChaosFigures): string[] {
  const fail: Array<[boolean, string]> = [
    [f.notes.lost > 0, 'an acknowledged note was lost'],
    [f.jobs.notDone > 0, 'an acknowledged job is not done'],
    [f.jobs.mismatched > 0, 'a job has other than one side effect per attempt that ended (at most one per lost attempt)'],
    [f.sessions.lost > 0, 'an acknowledged session message was lost'],
    [f.sessions.unmarked > 0, 'an acknowledged session message has neither its answer nor a partial/interrupted mark'],
    [f.sessions.doneNotStored > 0, 'a streamed answer differs from the stored one'],
    [f.schedules.missing > 0, 'a schedule missed a due fire'],
    [f.schedules.doubleJobs + f.schedules.jobsWithoutFire > 0, 'a schedule fired twice'],
    [f.telegram.unanswered > 0, 'an acknowledged webhook was not answered'],
    [f.telegram.duplicates > 0, 'a webhook was answered twice without a kill cutting the first send'],
    [f.approvals.pending > 0, 'an approval is neither decided nor expired'],
    [f.approvals.askMismatched + f.approvals.decisionsMismatched > 0, 'an acknowledged decision differs from the stored one'],
    [f.requests.status5xxOutsideDowntime > 0, 'a 5xx while every kernel was up'],
  ];
  return fail.filter(([bad]) => bad).map(([, what]) => what);
}
