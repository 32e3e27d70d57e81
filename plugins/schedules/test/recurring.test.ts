/**
 * The peer daemon's job shapes: GET /api/jobs carries the recurring jobs (cron schedules) beside
 * the jobs, and a schedule's job takes continuity and process_scope with their defaults.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, echoAgents, type TestKernel } from 'plinth/testing';

const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];
const job = { kind: 'command', title: 'nightly', request: { command: 'true' } };

for (const database of dialects) {
  describe(`recurring jobs (${database})`, () => {
    let k: TestKernel;
    let alice: { token: string; user: any };
    before(async () => {
      k = await createTestKernel({
        database,
        plugins: [
          echoAgents(),
          { path: join(__dirname, '..', '..', 'jobs'), config: { pollMs: 100, heartbeatMs: 100, leaseMs: 2000, defaultMaxRetries: 0, allowUserCommands: true } },
          { path: join(__dirname, '..'), config: { pollMs: 100 } },
        ],
      });
      alice = await k.createUser();
    });
    after(() => k?.stop());

    test('GET /api/jobs carries recurring: [...] beside items (yours only, every owner\'s for an admin); one-shot schedules are not recurring', async () => {
      const hers = await k.request('POST', '/api/schedules', { token: alice.token, body: { name: 'nightly build', cron: '0 3 * * *', job } });
      assert.equal(hers.status, 201, hers.text);
      const admins = await k.request('POST', '/api/schedules', { token: k.adminToken, body: { cron: '0 4 * * 1', template: 'weekly', enabled: false } });
      assert.equal(admins.status, 201, admins.text);
      const once = await k.request('POST', '/api/schedules', { token: alice.token, body: { at: new Date(Date.now() + 3_600_000).toISOString(), job } });
      assert.equal(once.status, 201, once.text);

      const mine = await k.request('GET', '/api/jobs?view=summary', { token: alice.token });
      assert.equal(mine.status, 200, mine.text);
      assert.ok(Array.isArray(mine.body.items));
      assert.deepEqual(mine.body.recurring, [{
        id: hers.body.id, owner: alice.user.id, name: 'nightly build', cron: '0 3 * * *', timezone: 'UTC', enabled: true,
        nextRunAt: hers.body.nextRunAt, lastRunAt: null, job: { kind: 'command', title: 'nightly' }, template: null,
      }]);
      const all = await k.request('GET', '/api/jobs', { token: k.adminToken });
      assert.deepEqual(all.body.recurring.map((r: any) => [r.id, r.enabled, r.template]), [[admins.body.id, false, 'weekly'], [hers.body.id, true, null]]);
      assert.deepEqual((await k.request('GET', '/api/jobs?mine=true', { token: k.adminToken })).body.recurring.map((r: any) => r.id), [admins.body.id]);
      // Deleted, it is no longer listed.
      await k.request('DELETE', `/api/schedules/${hers.body.id}`, { token: alice.token });
      assert.deepEqual((await k.request('GET', '/api/jobs', { token: alice.token })).body.recurring, []);
    });

    const sessionOf = async (jobId: string) => {
      const end = Date.now() + 8000;
      for (;;) {
        const d = (await k.request('GET', `/api/jobs/${jobId}`, { token: alice.token })).body;
        if (['done', 'failed'].includes(d.job.state)) { assert.equal(d.job.state, 'done', d.job.error); return d.job; }
        if (Date.now() > end) throw new Error(`job ${jobId} did not finish`);
        await new Promise(r => setTimeout(r, 25));
      }
    };
    const fire = async (scheduleId: string) => {
      const r = await k.request('POST', `/api/schedules/${scheduleId}/run-now`, { token: alice.token });
      assert.equal(r.status, 201, r.text);
      return sessionOf(r.body.jobIds[0]);
    };
    const agentJob = (extra: Record<string, unknown> = {}) => ({ kind: 'agent', request: { agent: 'echo', message: 'check the queue' }, ...extra });

    test('a schedule\'s job takes continuity and process_scope; a cron schedule resumes its previous fire\'s session by default, a one-shot starts fresh', async () => {
      const cron = await k.request('POST', '/api/schedules', { token: alice.token, body: { cron: '0 3 * * *', job: agentJob() } });
      assert.equal(cron.status, 201, cron.text);
      const first = await fire(cron.body.id);
      const second = await fire(cron.body.id);
      assert.deepEqual([first.continuity, first.processScope], ['resume', 'per_fire']);
      assert.equal(second.result.sessionId, first.result.sessionId, 'the second fire continues the first fire\'s session');

      // Explicit continuity: fresh on a cron schedule (today's 400 is gone): a new session each fire.
      const fresh = await k.request('POST', '/api/schedules', { token: alice.token, body: { cron: '0 3 * * *', job: agentJob({ continuity: 'fresh', process_scope: 'queue-watch' }) } });
      assert.equal(fresh.status, 201, fresh.text);
      const a = await fire(fresh.body.id);
      const b = await fire(fresh.body.id);
      assert.deepEqual([a.continuity, a.processScope], ['fresh', 'queue-watch']);
      assert.notEqual(a.result.sessionId, b.result.sessionId);

      const once = await k.request('POST', '/api/schedules', { token: alice.token, body: { at: new Date(Date.now() + 3_600_000).toISOString(), job: agentJob() } });
      assert.equal((await fire(once.body.id)).continuity, 'fresh');
      // A job of its own is one-shot: fresh and per_fire; sent to an instance it is scoped to it.
      const own = await k.request('POST', '/api/jobs', { token: alice.token, body: agentJob() });
      const j = await sessionOf(own.body.id);
      assert.deepEqual([j.continuity, j.processScope], ['fresh', 'per_fire']);

      for (const bad of [{ continuity: 'forever' }, { process_scope: '' }]) {
        const r = await k.request('POST', '/api/schedules', { token: alice.token, body: { cron: '0 3 * * *', job: agentJob(bad) } });
        assert.equal(r.status, 400, JSON.stringify(bad));
        assert.match(JSON.stringify(r.body.error), new RegExp(Object.keys(bad)[0]));
      }
      const contradictory = await k.request('POST', '/api/jobs', { token: alice.token, body: { kind: 'agent', request: { agent: 'echo', message: 'x', instance: true }, process_scope: 'per_fire' } });
      assert.equal(contradictory.status, 400);
      assert.match(contradictory.body.error.message, /per_fire.*instance/);
    });
  });
}
