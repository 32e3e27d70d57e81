import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Role, TaskState } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { createTestKernel, waitFor, type TestKernel } from 'plinth/testing';

const AGENTS = join(__dirname, '..');
const TOOLBOX = join(__dirname, 'fixtures', 'toolbox');
const APPROVALS = join(__dirname, '..', '..', 'approvals');
const JOBS = join(__dirname, '..', '..', 'jobs');
const SCHEDULES = join(__dirname, '..', '..', 'schedules');
const A2A = join(__dirname, '..', '..', 'a2a');
const dialects = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] as const : ['sqlite'] as const;

for (const database of dialects) describe(`agent instances (${database})`, () => {
  let k: TestKernel;
  let alice: { token: string; user: { id: string } };
  const states: string[] = [];
  before(async () => {
    k = await createTestKernel({ database, plugins: [{ path: APPROVALS }, { path: TOOLBOX }, { path: AGENTS, config: { instances: { pollMs: 50, leaseMs: 2000 } } },
      { path: JOBS, config: { pollMs: 100 } }, { path: SCHEDULES, config: { pollMs: 100 } }, { path: A2A }] });
    alice = await k.createUser() as any;
    k.events.subscribe('agent.instance.state', e => { if ((e.payload as any).agent === 'worker') states.push((e.payload as any).state); });
    const made = await k.request('POST', '/api/agents', { body: { name: 'worker', model: 'builtin/echo', instructions: 'Work.', allowed_tools: ['toolbox.*'] } });
    assert.equal(made.status, 201, made.text);
  });
  after(() => k.stop());

  const instance = async () => (await k.request('GET', '/api/agents?view=instances')).body.items.find((a: any) => a.name === 'worker').instance;
  const queue = (message: string) => k.request('POST', '/api/agents/worker/queue', { body: { message, source: 'test' } });
  const item = async (id: string) => (await k.request('GET', '/api/agents/worker/queue')).body.items.find((i: any) => i.id === id);
  const done = (id: string) => waitFor(async () => { const i = await item(id); return i?.state === 'done' ? i : undefined; }, `queue item ${id} done`, 10_000);

  test('start: the instance reports starting then idle, and takes its queue in one kept session', async () => {
    assert.equal(await instance(), null);
    assert.equal((await k.request('POST', '/api/agents/worker/start', { token: alice.token })).status, 403);
    assert.equal((await k.request('POST', '/api/agents/nobody/start')).status, 404);
    assert.equal((await k.request('POST', '/api/agents/worker/stop')).status, 404, 'never started');
    assert.equal((await k.request('POST', '/api/agents/worker/queue', { body: { message: '' } })).status, 400);
    const started = await k.request('POST', '/api/agents/worker/start');
    assert.equal(started.status, 200, started.text);
    assert.deepEqual([started.body.instance.state, started.body.instance.desired], ['idle', 'running']);
    await waitFor(async () => states.length >= 2, 'state events', 5000);
    assert.deepEqual(states, ['starting', 'idle']);

    const first = await queue('hello instance');
    assert.equal(first.status, 201, first.text);
    const one = await done(first.body.id);
    assert.equal(one.result, 'hello instance');
    const second = await done((await queue('and again')).body.id);
    const turn = (await k.request('GET', `/api/turns/${second.turn_id}`)).body;
    assert.equal(turn.via, 'instance:test');
    const sid = (await instance()).session_id;
    assert.equal(turn.session_id, sid);
    const msgs = (await k.request('GET', `/api/sessions/${sid}/messages`)).body.items;
    assert.deepEqual(msgs.map((m: any) => m.content), ['hello instance', 'hello instance', 'and again', 'and again']);
    await waitFor(async () => (await instance()).state === 'idle' && states.length >= 6, 'idle again', 5000);
    assert.deepEqual(states.slice(2), ['running', 'idle', 'running', 'idle']);
  });

  test('stop mid-turn: the turn finishes (state stopping, then stopped), what was queued meanwhile waits for the next start', async () => {
    const launching = await queue('/tool toolbox.launch {"n": 1}');
    const pending = await waitFor(async () => (await k.request('GET', '/api/approvals?state=pending')).body.items.find((r: any) => r.tool === 'toolbox.launch'), 'approval asked', 10_000);
    const waiting = await queue('after the stop');
    const stopping = await k.request('POST', '/api/agents/worker/stop');
    assert.deepEqual([stopping.status, stopping.body.instance.state, stopping.body.instance.desired], [200, 'stopping', 'stopped']);
    assert.equal((await k.request('POST', `/api/approvals/${pending.id}/approve`, { body: {} })).status, 200);
    const finished = await done(launching.body.id);
    assert.match(finished.result, /toolbox\.launch returned \{"launched":/);
    await waitFor(async () => (await instance()).state === 'stopped', 'stopped', 5000);
    await new Promise(r => setTimeout(r, 300));
    assert.equal((await item(waiting.body.id)).state, 'ready', 'not taken while stopped');
    assert.equal((await instance()).queued, 1);

    assert.equal((await k.request('POST', '/api/agents/worker/start')).status, 200);
    assert.equal((await done(waiting.body.id)).result, 'after the stop');
    assert.ok(states.includes('stopping') && states.includes('stopped'));
  });

  test('an item whose session is answering another turn waits in the queue; the instance does not fail', async () => {
    const sid = (await instance()).session_id;
    // A turn in the instance's session, not from its queue, held up by an approval.
    const direct = k.request('POST', `/api/sessions/${sid}/messages`, { body: { message: '/tool toolbox.launch {"n": 1}' } });
    const pending = await waitFor(async () => (await k.request('GET', '/api/approvals?state=pending')).body.items.find((r: any) => r.tool === 'toolbox.launch'), 'approval asked', 10_000);
    try {
      const queued = await queue('while busy');
      // The worker takes it every poll, finds the session answering and gives it back: never
      // answered meanwhile, its attempts not counted, the instance still wanted running.
      await new Promise(r => setTimeout(r, 300));
      const waiting = await item(queued.body.id);
      assert.ok(['ready', 'running'].includes(waiting.state) && waiting.attempts <= 1, JSON.stringify(waiting));
      assert.deepEqual([(await instance()).desired, states.includes('failed')], ['running', false]);
      assert.equal((await k.request('POST', `/api/approvals/${pending.id}/approve`, { body: {} })).status, 200);
      assert.equal((await direct).status, 200);
      const answered = await done(queued.body.id);
      assert.deepEqual([answered.result, answered.attempts], ['while busy', 1]);
    } finally {
      await k.request('POST', `/api/approvals/${pending.id}/approve`, { body: {} });
    }
    assert.equal((await instance()).desired, 'running');
  });

  test('a schedule fires a job addressed to the instance: the message goes through its queue and session, the job gets the answer', async () => {
    const sid = (await instance()).session_id;
    const at = new Date(Date.now() + 300).toISOString();
    const sched = await k.request('POST', '/api/schedules', { body: { at, job: { kind: 'agent', request: { agent: 'worker', message: 'from a schedule', instance: true } } } });
    assert.equal(sched.status, 201, sched.text);
    const jobs = await waitFor(async () => { const r = (await k.request('GET', `/api/schedules/${sched.body.id}/jobs`)).body; return r?.items?.length ? r.items : undefined; }, 'the schedule fired', 10_000);
    const job = await waitFor(async () => { const d = (await k.request('GET', `/api/jobs/${jobs[0].id}`)).body; return d?.job?.state === 'done' || d?.job?.state === 'failed' ? d.job : undefined; }, 'the job finished', 10_000);
    assert.equal(job.state, 'done', job.error);
    assert.equal(job.result.text, 'from a schedule');
    const queued = await item(job.result.instanceItem);
    assert.deepEqual([queued.source, queued.state], [`job:${job.id}`, 'done']);
    assert.equal((await k.request('GET', `/api/turns/${queued.turn_id}`)).body.session_id, sid);
    // A user who may not run the instance cannot address a job to it either.
    const theirs = await k.request('POST', '/api/jobs', { token: alice.token, body: { kind: 'agent', request: { agent: 'worker', message: 'let me in', instance: true } } });
    assert.equal(theirs.status, 201, theirs.text);
    const refused = await waitFor(async () => { const d = (await k.request('GET', `/api/jobs/${theirs.body.id}`, { token: alice.token })).body; return d?.job?.state === 'failed' ? d.job : undefined; }, 'the job failed', 15_000);
    assert.match(refused.error, /only admins run it as an instance/);
  });

  test('an A2A task with metadata { agent, instance: true } is answered by the instance, through its queue', async () => {
    const fetchImpl: typeof fetch = (url, init) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${k.adminToken}`);
      return fetch(url, { ...init, headers });
    };
    const client = await new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { transports: [new JsonRpcTransportFactory({ fetchImpl })] })).createFromUrl(k.baseUrl);
    const res: any = await client.sendMessage({ message: { messageId: randomUUID(), role: Role.ROLE_USER, parts: [{ content: { $case: 'text', value: 'over a2a' } }], metadata: { agent: 'worker', instance: true } } } as any);
    const task = res.payload?.value ?? res;
    assert.equal(task.status.state, TaskState.TASK_STATE_COMPLETED, JSON.stringify(task.status));
    assert.equal(task.status.message.parts.map((p: any) => p.content?.value).join(''), 'over a2a');
    const queued = (await k.request('GET', '/api/agents/worker/queue')).body.items.find((i: any) => i.source === `a2a:${task.id}`);
    assert.deepEqual([queued?.state, queued?.message], ['done', 'over a2a']);
    assert.equal((await k.request('GET', `/api/turns/${queued.turn_id}`)).body.session_id, (await instance()).session_id);
  });
});
