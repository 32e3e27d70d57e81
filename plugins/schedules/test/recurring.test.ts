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
  });
}
