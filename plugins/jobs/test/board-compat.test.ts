/** The job board's documented request shapes: clear one column (?status=), and mine= on schedules. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { waitForJob } from './helpers';

let k: TestKernel;
let alice: { token: string; user: any };

before(async () => {
  k = await createTestKernel({
    database: process.env.PLINTH_TEST_POSTGRES_URL ? 'postgres' : 'sqlite',
    plugins: [
      { path: join(__dirname, '..'), config: { pollMs: 100, heartbeatMs: 100, leaseMs: 2000, defaultMaxRetries: 0, allowUserCommands: true } },
      { path: join(__dirname, '..', '..', 'schedules'), config: { pollMs: 200 } },
    ],
  });
  alice = await k.createUser();
});
after(() => k?.stop());

test('POST /api/jobs/clear?status= clears one finished column; a column that is not finished is refused naming status; without it, all finished', async () => {
  const run = async (command: string, state: string) => {
    const r = await k.request('POST', '/api/jobs', { token: alice.token, body: { kind: 'command', request: { command } } });
    assert.equal(r.status, 201, r.text);
    assert.equal((await waitForJob(k, r.body.id, ['done', 'failed'])).job.state, state);
    return r.body.id as string;
  };
  const ok = await run('true', 'done');
  const bad = await run('exit 3', 'failed');
  const refused = await k.request('POST', '/api/jobs/clear?status=running', { token: k.adminToken });
  assert.equal(refused.status, 400);
  assert.match(JSON.stringify(refused.body.error), /status/);
  const cleared = await k.request('POST', '/api/jobs/clear?status=failed', { token: k.adminToken });
  assert.deepEqual(cleared.body, { deleted: 1 });
  assert.equal((await k.request('GET', `/api/jobs/${bad}`, { token: alice.token })).status, 404);
  assert.equal((await k.request('GET', `/api/jobs/${ok}`, { token: alice.token })).status, 200);
  assert.deepEqual((await k.request('POST', '/api/jobs/clear', { token: k.adminToken })).body, { deleted: 1 });
  assert.equal((await k.request('GET', `/api/jobs/${ok}`, { token: alice.token })).status, 404);
});

test('GET /api/schedules?mine=true lists only your own (an admin otherwise sees all)', async () => {
  const job = { kind: 'command', request: { command: 'true' } };
  const mine = await k.request('POST', '/api/schedules', { token: k.adminToken, body: { cron: '0 0 1 1 *', job } });
  assert.equal(mine.status, 201, mine.text);
  const hers = await k.request('POST', '/api/schedules', { token: alice.token, body: { cron: '0 0 1 1 *', job } });
  assert.equal(hers.status, 201, hers.text);
  const all = (await k.request('GET', '/api/schedules', { token: k.adminToken })).body.items.map((s: any) => s.id);
  assert.ok(all.includes(mine.body.id) && all.includes(hers.body.id));
  const own = await k.request('GET', '/api/schedules?mine=true', { token: k.adminToken });
  assert.equal(own.status, 200, own.text);
  assert.deepEqual(own.body.items.map((s: any) => s.id), [mine.body.id]);
  assert.equal((await k.request('GET', '/api/schedules?mine=maybe', { token: k.adminToken })).status, 400);
});

test('POST /api/jobs?scheduledAt= (or in the body, or delay_ms) holds a job and a whole crew until then; a past or malformed time is a 400 naming it', async () => {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const dir = join(k.dataDir, 'templates');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pair.job_workflow.yaml'), 'name: pair\nsteps:\n  - id: first\n    kind: command\n    request: { command: "echo one" }\n  - id: second\n    kind: command\n    depends_on: [first]\n    request: { command: "echo two" }\n');
  const at = new Date(Date.now() + 4000).toISOString();
  const held = await k.request('POST', `/api/jobs?scheduledAt=${encodeURIComponent(at)}`, { token: alice.token, body: { kind: 'command', request: { command: 'echo held' } } });
  assert.equal(held.status, 201, held.text);
  const crew = await k.request('POST', '/api/jobs', { token: alice.token, body: { template: 'pair', inputs: {}, scheduledAt: at } });
  assert.equal(crew.status, 201, crew.text);
  const delayed = await k.request('POST', '/api/jobs', { token: alice.token, body: { kind: 'command', request: { command: 'echo later' }, delay_ms: 4000 } });
  const now = await k.request('POST', '/api/jobs', { token: alice.token, body: { kind: 'command', request: { command: 'echo now' } } });
  assert.equal((await waitForJob(k, now.body.id, ['done'])).job.state, 'done');
  // The unheld job is done; the held ones have not started.
  for (const id of [held.body.id, delayed.body.id, ...crew.body.jobs.map((j: any) => j.id)]) {
    const s = (await k.request('GET', `/api/jobs/${id}/status`, { token: alice.token })).body;
    assert.ok(['ready', 'queued'].includes(s.state), `${id} is ${s.state}`);
  }
  for (const id of [held.body.id, delayed.body.id, ...crew.body.jobs.map((j: any) => j.id)]) assert.equal((await waitForJob(k, id, ['done', 'failed'], undefined, 15_000)).job.state, 'done');

  const past = await k.request('POST', `/api/jobs?scheduledAt=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`, { token: alice.token, body: { kind: 'command', request: { command: 'true' } } });
  assert.equal(past.status, 400);
  assert.match(past.body.error.message, /scheduledAt .* in the past/);
  const malformed = await k.request('POST', '/api/jobs?scheduledAt=tomorrow', { token: alice.token, body: { kind: 'command', request: { command: 'true' } } });
  assert.equal(malformed.status, 400);
  assert.match(JSON.stringify(malformed.body.error), /scheduledAt/);
});

test('GET /api/jobs?view=summary keeps a short result summary', async () => {
  const r = await k.request('POST', '/api/jobs', { token: alice.token, body: { kind: 'command', request: { command: 'printf "%0.sx" $(seq 1 300)' } } });
  await waitForJob(k, r.body.id, ['done']);
  const item = (await k.request('GET', '/api/jobs?view=summary&mine=true', { token: alice.token })).body.items.find((j: any) => j.id === r.body.id);
  assert.ok(!('result' in item) && !('request' in item));
  assert.equal(typeof item.resultSummary, 'string');
  assert.ok(item.resultSummary.length <= 200 && item.resultSummary.includes('x'), item.resultSummary);
});
