import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { nextCronRun } from '../src/timing';

const JOBS = join(__dirname, '..', '..', 'jobs');
const SCHEDULES = join(__dirname, '..');
const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
async function until<T>(fn: () => Promise<T | undefined | false>, ms = 8000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what} not met in ${ms} ms`);
    await sleep(25);
  }
}

const plugins = (schedules: Record<string, unknown> = {}) => [
  { path: JOBS, config: { pollMs: 100, heartbeatMs: 100, leaseMs: 2000 } },
  { path: SCHEDULES, config: { pollMs: 200, missedGraceMs: 500, ...schedules } },
];
const job = { kind: 'command', request: { command: 'true' } };

describe('cron timing', () => {
  test('DST: a time skipped by spring-forward runs at the next valid time; a repeated one runs once', () => {
    // 2026-03-08 02:30 does not exist in New York; 2026-11-01 01:30 happens twice.
    const spring = nextCronRun('30 2 * * *', 'America/New_York', Date.parse('2026-03-08T06:00:00Z'));
    assert.equal(new Date(spring).toISOString(), '2026-03-08T07:30:00.000Z');
    const fall1 = nextCronRun('30 1 * * *', 'America/New_York', Date.parse('2026-11-01T04:00:00Z'));
    const fall2 = nextCronRun('30 1 * * *', 'America/New_York', fall1);
    assert.deepEqual([fall1, fall2].map(t => new Date(t).toISOString()), ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
    assert.equal(new Date(nextCronRun('0 9 * * 1-5', 'Europe/Berlin', Date.parse('2026-07-03T08:00:00Z'))).toISOString(), '2026-07-06T07:00:00.000Z');
  });
});

for (const database of dialects) {
  describe(`schedules (${database})`, () => {
    let k: TestKernel;
    let alice: { user: any; token: string };
    before(async () => {
      k = await createTestKernel({ database, plugins: plugins() });
      alice = await k.createUser();
    });
    after(() => k.stop());

    test('a cron schedule fires once per due time; disable clears the next run, enable recomputes it', async () => {
      const r = await k.request('POST', '/api/schedules', { body: { name: 'tick', cron: '* * * * * *', timezone: 'Europe/Berlin', job } });
      assert.equal(r.status, 201, r.text);
      assert.ok(Date.parse(r.body.nextRunAt) - Date.now() <= 1000);
      const jobs = await until(async () => {
        const b = (await k.request('GET', `/api/schedules/${r.body.id}/jobs`)).body;
        return b.items.length >= 2 ? b : undefined;
      }, 5000, 'two fires');
      const dues = jobs.fires.map((f: any) => f.dueAt);
      assert.equal(new Set(dues).size, dues.length, 'one fire per due time');
      assert.ok(dues.every((d: string) => d.endsWith('.000Z')), 'due on the second');
      assert.ok(jobs.fires.every((f: any) => f.lateMs < 1000), JSON.stringify(jobs.fires.map((f: any) => f.lateMs)));
      await until(async () => (await k.request('GET', `/api/jobs/${jobs.items[0].id}`)).body.job.state === 'done', 5000, 'job done');
      const off = await k.request('POST', `/api/schedules/${r.body.id}/disable`);
      assert.equal(off.body.enabled, false);
      assert.equal(off.body.nextRunAt, null);
      const count = (await k.request('GET', `/api/schedules/${r.body.id}/jobs`)).body.items.length;
      await sleep(1300);
      assert.equal((await k.request('GET', `/api/schedules/${r.body.id}/jobs`)).body.items.length, count, 'a disabled schedule does not fire');
      const on = await k.request('POST', `/api/schedules/${r.body.id}/enable`);
      assert.equal(on.body.enabled, true);
      assert.ok(Date.parse(on.body.nextRunAt) > Date.now() - 50);
      await k.request('DELETE', `/api/schedules/${r.body.id}`);
      assert.equal((await k.request('GET', `/api/jobs/${jobs.items[0].id}`)).status, 200, 'deleting a schedule keeps its jobs');
    });

    test('bad timing is a 400 that says what is wrong, and creates nothing', async () => {
      const before = (await k.request('GET', '/api/schedules')).body.items.length;
      const cases: Array<[unknown, RegExp]> = [
        [{ cron: '61 * * * *', job }, /cron: "61 \* \* \* \*" is not a valid cron expression/],
        [{ cron: '* *', job }, /has 2 fields/],
        [{ cron: '* * * * *', timezone: 'Mars/Olympus', job }, /timezone: "Mars\/Olympus" is not an IANA timezone/],
        [{ at: '2001-01-01T00:00:00Z', job }, /in the past/],
        [{ at: 'tomorrow', job }, /not an ISO 8601/],
        [{ at: '2099-01-01T00:00:00', job }, /no timezone offset/],
        [{ at: '2099-01-01T00:00:00Z', cron: '* * * * *', job }, /.+/],
        [{ cron: '* * * * *' }, /.+/],
      ];
      for (const [body, message] of cases) {
        const r = await k.request('POST', '/api/schedules', { body });
        assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
        assert.match(r.body.error.message, message);
      }
      const s = (await k.request('POST', '/api/schedules', { body: { cron: '0 0 1 1 *', job } })).body;
      assert.equal((await k.request('PATCH', `/api/schedules/${s.id}`, { body: { timezone: 'Nowhere/Land' } })).status, 400);
      assert.equal((await k.request('GET', `/api/schedules/${s.id}`)).body.timezone, 'UTC', 'a bad PATCH changes nothing');
      const p = await k.request('PATCH', `/api/schedules/${s.id}`, { body: { cron: '0 9 * * *', timezone: 'Asia/Tokyo' } });
      assert.equal(p.status, 200);
      assert.equal(new Date(p.body.nextRunAt).getUTCHours(), 0, '09:00 in Tokyo is 00:00 UTC');
      assert.equal((await k.request('GET', '/api/schedules')).body.items.length, before + 1);
    });

    test('a schedule of a template spawns the whole crew; inputs that do not fit are a recorded error', async () => {
      mkdirSync(join(k.dataDir, 'templates'), { recursive: true });
      writeFileSync(join(k.dataDir, 'templates', 'pair.job_workflow.yaml'), [
        'name: pair', 'inputs: { type: object, required: [word], properties: { word: { type: string } } }', 'steps:',
        '  - { id: first, kind: command, request: { command: "echo {{ inputs.word }}" } }',
        '  - { id: second, kind: command, depends_on: [first], request: { command: "echo \\"$PLINTH_PARENT_RESULTS\\"" } }', '',
      ].join('\n'));
      const s = (await k.request('POST', '/api/schedules', { body: { cron: '0 0 1 1 *', template: 'pair', inputs: { word: 'hi' } } })).body;
      const run = await k.request('POST', `/api/schedules/${s.id}/run-now`);
      assert.equal(run.status, 201, run.text);
      assert.equal(run.body.jobIds.length, 2);
      assert.ok(run.body.crewId);
      const second = await until(async () => {
        const d = (await k.request('GET', `/api/jobs/${run.body.jobIds[1]}`)).body;
        return d.job.state === 'done' ? d : undefined;
      }, 8000, 'crew done');
      assert.equal(second.parentResults.first.output, 'hi');
      const bad = (await k.request('POST', '/api/schedules', { body: { cron: '0 0 1 1 *', template: 'pair', inputs: { word: 5 } } })).body;
      const refused = await k.request('POST', `/api/schedules/${bad.id}/run-now`);
      assert.equal(refused.status, 400);
      assert.match(refused.body.error.message, /inputs do not fit template pair/);
      const fires = (await k.request('GET', `/api/schedules/${bad.id}/jobs`)).body.fires;
      assert.equal(fires[0].status, 'error');
    });

    test('owners only: another user gets 404; run-now fires at once; the cron aliases work', async () => {
      const s = (await k.request('POST', '/api/cron/jobs', { token: alice.token, body: { cron: '0 0 1 1 *', job: { kind: 'agent', request: { agent: 'x', message: 'y' } } } })).body;
      assert.ok(s.id);
      const bob = await k.createUser();
      for (const [m, p] of [['GET', `/api/schedules/${s.id}`], ['PATCH', `/api/schedules/${s.id}`], ['POST', `/api/schedules/${s.id}/run-now`], ['DELETE', `/api/cron/jobs/${s.id}`], ['GET', `/api/schedules/${s.id}/jobs`]] as const) {
        const r = await k.request(m, p, { token: bob.token, body: m === 'PATCH' ? { name: 'mine' } : undefined });
        assert.equal(r.status, 404, `${m} ${p}`);
      }
      assert.ok(!(await k.request('GET', '/api/cron/jobs', { token: bob.token })).body.items.length);
      const run = await k.request('POST', `/api/schedules/${s.id}/run-now`, { token: alice.token });
      assert.equal(run.status, 201, run.text);
      assert.equal(run.body.jobIds.length, 1);
      const runs = (await k.request('GET', '/api/cron/runs', { token: alice.token })).body.items;
      assert.equal(runs[0].scheduleId, s.id);
      // A user may not schedule command jobs (they run as the kernel's OS user): the fire is an error.
      const cmd = (await k.request('POST', '/api/schedules', { token: alice.token, body: { cron: '0 0 1 1 *', job } })).body;
      const refused = await k.request('POST', `/api/schedules/${cmd.id}/run-now`, { token: alice.token });
      assert.equal(refused.status, 400);
      assert.match(refused.body.error.message, /only admins/);
      assert.equal((await k.request('DELETE', `/api/cron/jobs/${s.id}`, { token: alice.token })).status, 204);
    });
  });
}

describe('schedules across restarts and kernels', () => {
  test('a one-shot due while the kernel was down fires once after restart, and never again', async () => {
    const a = await createTestKernel({ keepData: true, plugins: plugins({ missedGraceMs: 60_000 }) });
    const dataDir = a.dataDir;
    try {
      const at = new Date(Date.now() + 700).toISOString();
      const once = (await a.request('POST', '/api/schedules', { body: { at, job } })).body;
      const skipped = (await a.request('POST', '/api/schedules', { body: { at, job, missed: 'skip' } })).body;
      await a.stop();
      await sleep(1200);
      // Grace 500 ms: the fire is ~500+ ms late, so `skip` skips it and `run_once` runs it.
      const b = await createTestKernel({ dataDir, plugins: plugins({ missedGraceMs: 300 }) });
      try {
        const fired = await until(async () => {
          const r = (await b.request('GET', `/api/schedules/${once.id}/jobs`)).body;
          return r.items.length ? r : undefined;
        }, 5000, 'the missed fire');
        assert.equal(fired.items.length, 1);
        const s = (await b.request('GET', `/api/schedules/${once.id}`)).body;
        assert.deepEqual([s.enabled, s.nextRunAt], [false, null]);
        const sk = (await b.request('GET', `/api/schedules/${skipped.id}/jobs`)).body;
        assert.deepEqual(sk.items, []);
        assert.equal(sk.fires[0].status, 'skipped');
      } finally {
        await b.stop();
      }
      const c = await createTestKernel({ dataDir, plugins: plugins() });
      try {
        await sleep(500);
        assert.equal((await c.request('GET', `/api/schedules/${once.id}/jobs`)).body.items.length, 1, 'a restart never fires twice');
      } finally {
        await c.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('due times passed while no kernel ran, within the grace, each fire once in turn; past the grace they are coalesced', async () => {
    // The chaos run of issue 15 found this: the next run was computed from now, so a fire that came
    // late (here a restart; there a lease taken over from a killed kernel) skipped the due times between.
    const a = await createTestKernel({ keepData: true, plugins: plugins({ missedGraceMs: 60_000 }) });
    const dataDir = a.dataDir;
    try {
      const s = (await a.request('POST', '/api/schedules', { body: { cron: '* * * * * *', job } })).body;
      await until(async () => (await a.request('GET', `/api/schedules/${s.id}/jobs`)).body.fires.length >= 1, 5000, 'a first fire');
      await a.stop();
      await sleep(3200);
      const firesFrom = async (k: TestKernel, sinceMs: number) => until(async () => {
        const fires = (await k.request('GET', `/api/schedules/${s.id}/jobs`)).body.fires as any[];
        const d = fires.map(f => Date.parse(f.dueAt)).sort((x, y) => x - y);
        return d[d.length - 1] >= sinceMs ? d : undefined;
      }, 8000, 'fires caught up to the restart');
      const b = await createTestKernel({ dataDir, plugins: plugins({ missedGraceMs: 60_000 }) });
      const dues = await firesFrom(b, Date.now()).finally(() => b.stop());
      const gaps = dues.slice(1).map((d, i) => d - dues[i]).filter(g => g !== 1000);
      assert.deepEqual(gaps, [], `one fire per second, none skipped: ${dues.map(d => new Date(d).toISOString().slice(17, 21)).join(' ')}`);
      assert.ok(dues.length >= 5, `the ~3 s down were caught up: ${dues.length} fires`);

      // The same kind of downtime past a grace of 500 ms: one fire for it (run_once), then the timetable from now.
      await sleep(3200);
      const c = await createTestKernel({ dataDir, plugins: plugins({ missedGraceMs: 500 }) });
      const after = await firesFrom(c, Date.now() + 1000).finally(async () => {
        await c.request('POST', `/api/schedules/${s.id}/disable`);
        await c.stop();
      });
      const late = after.filter(d => d > dues[dues.length - 1]);
      assert.ok(late[1] - late[0] >= 2000, `the missed due times were coalesced into one fire: ${late.map(d => new Date(d).toISOString().slice(17, 21)).join(' ')}`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('two kernels on one database: each due time fires exactly once', async () => {
    const a = await createTestKernel({ keepData: true, plugins: plugins({ pollMs: 50 }) });
    // Each test kernel installs its own admin token; a second admin made here works on both.
    const admin = await a.createUser({ role: 'admin' });
    const b = await createTestKernel({ dataDir: a.dataDir, plugins: plugins({ pollMs: 50 }) });
    try {
      const created = await a.request('POST', '/api/schedules', { token: admin.token, body: { cron: '* * * * * *', job } });
      assert.equal(created.status, 201, created.text);
      const s = created.body;
      await sleep(3300);
      await a.request('POST', `/api/schedules/${s.id}/disable`, { token: admin.token });
      const res = await b.request('GET', `/api/schedules/${s.id}/jobs`, { token: admin.token });
      assert.equal(res.status, 200, res.text);
      const r = res.body;
      assert.ok(r.fires.length >= 2, `fired ${r.fires.length}`);
      const dues = r.items.map((i: any) => i.dueAt);
      assert.equal(new Set(dues).size, dues.length, 'no due time has two jobs');
      assert.equal(r.items.length, r.fires.length);
    } finally {
      await b.stop();
      await a.stop();
      rmSync(a.dataDir, { recursive: true, force: true });
    }
  });
});
