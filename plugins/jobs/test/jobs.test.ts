import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestKernel, echoAgents, type TestKernel } from 'plinth/testing';
import { logOf, sleep, until, waitForJob } from './helpers';

const JOBS = join(__dirname, '..');
const CLIENT = join(__dirname, 'fixtures', 'jobs-client');
const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

const TEMPLATE = `name: build-and-report
description: Builds a thing, then reports on it
inputs:
  type: object
  required: [target]
  additionalProperties: false
  properties:
    target: { type: string, pattern: "^[a-z]+$" }
steps:
  - id: report
    kind: command
    depends_on: [build, lint]
    request: { command: "echo report $PLINTH_PARENT_RESULTS >> order.log; echo \\"$PLINTH_PARENT_RESULTS\\"", cwd: "{{ inputs.dir }}" }
  - id: build
    kind: command
    title: "build {{ inputs.target }}"
    request: { command: "sleep 0.2; echo build >> order.log; echo built-{{ inputs.target }}" }
  - id: lint
    kind: command
    request: { command: "echo lint >> order.log; echo linted" }
`;

for (const database of dialects) {
  describe(`jobs (${database})`, () => {
    let k: TestKernel;
    let alice: { user: any; token: string };
    let bob: { user: any; token: string };
    before(async () => {
      process.env.PLINTH_FAKE_SECRET = 'do-not-leak';
      k = await createTestKernel({
        database,
        plugins: [
          echoAgents(),
          { path: JOBS, config: { concurrency: 4, backoffBaseMs: 50, backoffMaxMs: 200, pollMs: 100, heartbeatMs: 100, leaseMs: 2000, defaultMaxRetries: 0, allowUserCommands: true } },
          { path: CLIENT },
        ],
      });
      alice = await k.createUser();
      bob = await k.createUser();
    });
    after(async () => { delete process.env.PLINTH_FAKE_SECRET; await k.stop(); });

    const create = (body: unknown, token = alice.token) => k.request('POST', '/api/jobs', { token, body });

    test('a command job runs with a minimal environment; its output is the job log and result', async () => {
      const r = await create({ kind: 'command', title: 'env', request: { command: 'echo hello; env | sort; echo oops >&2' } });
      assert.equal(r.status, 201, r.text);
      const d = await waitForJob(k, r.body.id, ['done', 'failed']);
      assert.equal(d.job.state, 'done', JSON.stringify(d.job.error));
      const log = await logOf(k, r.body.id);
      assert.equal(log[0], 'hello');
      assert.ok(log.includes('[stderr] oops'));
      // The sandbox adds its proxy settings (and TMPDIR); nothing else beyond the job's own.
      const env = log.filter(l => /^[A-Z_]+=/.test(l)).map(l => l.split('=')[0])
        .filter(n => !/PROXY|^SANDBOX_RUNTIME$|^TMPDIR$|^CLOUDSDK_|^GIT_CONFIG_PARAMETERS$|^GIT_SSH_COMMAND$|^JAVA_TOOL_OPTIONS$|^CLAUDE_CODE_HOST_/.test(n));
      assert.ok(env.includes('PLINTH_JOB_ID') && env.includes('PATH') && env.includes('HOME'));
      assert.ok(!log.some(l => l.includes('do-not-leak')), 'the kernel environment never reaches a job');
      assert.ok(env.length < 12, `few variables: ${env.join(',')}`);
      assert.equal(d.job.result.exitCode, 0);
      assert.deepEqual(d.attempts.map((a: any) => a.outcome), ['done']);
    });

    test('a failing command is retried with backoff until max_retries, then failed with the reason', async () => {
      const r = await create({ kind: 'command', max_retries: 2, request: { command: 'echo try $PLINTH_JOB_ATTEMPT; exit 3' } });
      const d = await waitForJob(k, r.body.id, ['failed']);
      assert.equal(d.job.attempts, 3);
      assert.match(d.job.error, /exited with 3/);
      assert.deepEqual(d.attempts.map((a: any) => a.outcome), ['failed', 'failed', 'failed']);
      const gaps = d.attempts.slice(1).map((a: any, i: number) => Date.parse(a.startedAt) - Date.parse(d.attempts[i].endedAt));
      assert.ok(gaps[0] >= 45 && gaps[1] >= 95, `backoff grows: ${gaps}`);
      assert.deepEqual((await logOf(k, r.body.id)).filter(l => l.startsWith('try')), ['try 1', 'try 2', 'try 3']);
    });

    test('a timeout and a result that fails result_schema are failed attempts', async () => {
      const slow = await create({ kind: 'command', request: { command: 'sleep 5', timeoutMs: 200 } });
      const bad = await create({ kind: 'command', request: { command: 'echo x' }, result_schema: { type: 'object', required: ['answer'] } });
      const d1 = await waitForJob(k, slow.body.id, ['failed', 'done']);
      assert.match(d1.job.error, /timed out after 200 ms/);
      const d2 = await waitForJob(k, bad.body.id, ['failed', 'done']);
      assert.equal(d2.job.state, 'failed');
      assert.match(d2.job.error, /result_schema/);
    });

    test('bad inputs are 400s that create nothing; command jobs need admin unless allowed', async () => {
      const before = (await k.request('GET', '/api/jobs', { token: alice.token })).body.items.length;
      for (const body of [
        { kind: 'nope', request: {} },
        { kind: 'command', request: {} },
        { kind: 'command', request: { command: 'x', argv: ['x'] } },
        { kind: 'command', request: { command: 'x' }, result_schema: { type: 'nonsense' } },
        { kind: 'command', request: { command: 'x' }, parents: ['job_missing'] },
        { kind: 'agent', request: { agent: 'echo' } },
        { template: 'x', kind: 'command' },
        { kind: 'command', request: { command: 'x' }, max_retries: -1 },
      ]) {
        const r = await create(body);
        assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status} ${r.text}`);
        assert.ok(r.body.error.code.startsWith('PLINTH_ERR_'));
      }
      assert.equal((await k.request('GET', '/api/jobs', { token: alice.token })).body.items.length, before);
      assert.equal((await k.request('GET', '/api/jobs?status=sleeping', { token: alice.token })).status, 400);
    });

    test('a template creates a crew that runs in dependency order and passes results', async () => {
      const dir = join(k.dataDir, 'templates');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'build.job_workflow.yaml'), TEMPLATE);
      writeFileSync(join(dir, 'broken.job_workflow.yaml'), 'name: broken\nsteps: []\n');
      const list = (await k.request('GET', '/api/templates', { token: alice.token })).body.items;
      assert.equal(list.find((t: any) => t.name === 'build-and-report').steps.length, 3);
      assert.match(list.find((t: any) => t.file === 'broken.job_workflow.yaml').error, /invalid template/);
      const bad = await create({ template: 'build-and-report', inputs: { target: 'NOT OK' } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /inputs/);
      assert.equal((await create({ template: 'missing', inputs: {} })).status, 404);
      const r = await create({ template: 'build-and-report', inputs: { target: 'app' } });
      assert.equal(r.status, 201, r.text);
      const byStep = Object.fromEntries(r.body.jobs.map((j: any) => [j.step, j]));
      assert.equal(byStep.report.state, 'queued');
      assert.equal(byStep.build.title, 'build app');
      const done = await waitForJob(k, byStep.report.id, ['done', 'failed'], alice.token);
      assert.equal(done.job.state, 'done', done.job.error);
      assert.deepEqual(done.parentResults.build.output, 'built-app');
      assert.deepEqual(done.parentResults.lint.output, 'linted');
      assert.deepEqual(JSON.parse(done.job.result.output), done.parentResults);
      // Each job has its own folder; the order file of the report step shows it ran last.
      const graph = (await k.request('GET', `/api/jobs/${byStep.build.id}/graph`, { token: alice.token })).body;
      assert.equal(graph.jobs.length, 3);
      assert.equal(graph.jobs[2].step, 'report');
      const buildEnd = Date.parse((await waitForJob(k, byStep.build.id, ['done'])).job.finishedAt);
      assert.ok(Date.parse(done.job.startedAt) >= buildEnd, 'the report started after its parents finished');
      assert.equal((await k.request('GET', `/api/jobs/${byStep.build.id}/graph`, { token: bob.token })).status, 404);
    });

    test('a failed parent fails its waiting children; a job whose parent is done starts at once', async () => {
      const p = await create({ kind: 'command', request: { command: 'exit 1' } });
      const c = await create({ kind: 'command', request: { command: 'echo child' }, parents: [p.body.id] });
      const d = await waitForJob(k, c.body.id, ['failed', 'done']);
      assert.equal(d.job.state, 'failed');
      assert.match(d.job.error, /parent\b.*\bfailed/);
      const ok = await create({ kind: 'command', request: { command: 'echo p' } });
      await waitForJob(k, ok.body.id, ['done']);
      const late = await create({ kind: 'command', request: { command: 'echo late' }, parents: [ok.body.id] });
      assert.equal((await waitForJob(k, late.body.id, ['done', 'failed'])).job.state, 'done');
    });

    test('agent jobs run a turn through the runtime; jobs.block blocks; unblock and redo with feedback re-run', async () => {
      const r = await create({ kind: 'agent', request: { agent: 'echo', message: 'summarise BLOCK: need the password' }, continuity: 'fresh', process_scope: 'repo-a' });
      assert.equal(r.status, 201, r.text);
      const blocked = await waitForJob(k, r.body.id, ['blocked', 'done', 'failed'], alice.token);
      assert.equal(blocked.job.state, 'blocked', blocked.job.error);
      assert.equal(blocked.job.error, 'need the password');
      assert.equal(blocked.job.processScope, 'repo-a');
      await until(async () => (await k.request('GET', `/api/jobs/${r.body.id}`)).body.job.lease === null, 3000, 'lease released');
      assert.equal((await k.request('POST', `/api/jobs/${r.body.id}/archive`, { token: alice.token })).status, 409);
      assert.equal((await k.request('POST', `/api/jobs/${r.body.id}/unblock`, { token: bob.token })).status, 404);
      assert.equal((await k.request('POST', `/api/jobs/${r.body.id}/unblock`, { token: alice.token })).status, 200);
      // Unblocked, the turn runs again (and blocks again, since the task still says so).
      await until(async () => (await k.request('GET', `/api/jobs/${r.body.id}`)).body.attempts.length === 2, 5000, 'second attempt');
      const plain = await create({ kind: 'agent', request: { agent: 'echo', message: 'hello' } });
      const done = await waitForJob(k, plain.body.id, ['done', 'failed']);
      assert.equal(done.job.result.text, 'echo: hello');
      const redo = await k.request('POST', `/api/jobs/${plain.body.id}/redo`, { token: alice.token, body: { feedback: 'shorter please' } });
      assert.equal(redo.status, 200, redo.text);
      const again = await until(async () => {
        const d = (await k.request('GET', `/api/jobs/${plain.body.id}`)).body;
        return d.job.state === 'done' && d.attempts.length === 2 ? d : undefined;
      });
      assert.match(again.job.result.text, /shorter please/);
      assert.notEqual(again.job.result.sessionId, done.job.result.sessionId, 'fresh: a new session each run');
      const resumed = await create({ kind: 'agent', continuity: 'resume', request: { agent: 'echo', message: 'step one' } });
      const first = await waitForJob(k, resumed.body.id, ['done', 'failed']);
      await k.request('POST', `/api/jobs/${resumed.body.id}/redo`, { token: alice.token, body: { feedback: 'step two' } });
      const second = await until(async () => {
        const d = (await k.request('GET', `/api/jobs/${resumed.body.id}`)).body;
        return d.job.state === 'done' && d.attempts.length === 2 ? d : undefined;
      });
      assert.equal(second.job.result.sessionId, first.job.result.sessionId, 'resume: the redo continues the same session');
      assert.equal((await k.request('POST', `/api/jobs/${plain.body.id}/redo`, { token: alice.token, body: { feedback: 5 } })).status, 400);
    });

    test('cancel kills a running command; DELETE of a running job is a 409; archive, comments, clear', async () => {
      // In its own PID namespace the job's $$ means nothing out here: find it by a unique command line.
      const marker = `30.${Date.now() % 100000}`;
      const r = await create({ kind: 'command', request: { command: `exec sleep ${marker}` } });
      await waitForJob(k, r.body.id, ['running']);
      const alive = () => readdirSync('/proc').some(p => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sleep\0${marker}\0`; } catch { return false; } });
      await until(async () => alive(), 3000, 'the process runs');
      assert.equal((await k.request('DELETE', `/api/jobs/${r.body.id}`, { token: alice.token })).status, 409);
      assert.equal((await k.request('POST', `/api/jobs/${r.body.id}/cancel`, { token: bob.token })).status, 404);
      const c = await k.request('POST', `/api/jobs/${r.body.id}/cancel`, { token: alice.token });
      assert.equal(c.status, 200);
      assert.equal(c.body.state, 'cancelled');
      assert.equal((await k.request('POST', `/api/jobs/${r.body.id}/cancel`, { token: alice.token })).status, 409);
      await until(async () => !alive(), 3000, 'the process is killed');
      const status = (await k.request('GET', `/api/jobs/${r.body.id}/status`, { token: alice.token })).body;
      assert.equal(status.state, 'cancelled');
      const cm = await k.request('POST', `/api/jobs/${r.body.id}/comments`, { token: alice.token, body: { text: 'stopped it' } });
      assert.equal(cm.status, 201);
      assert.equal((await k.request('POST', `/api/jobs/${r.body.id}/comments`, { token: alice.token, body: { text: '' } })).status, 400);
      assert.equal((await k.request('POST', `/api/jobs/${r.body.id}/archive`, { token: alice.token })).body.state, 'archived');
      const d = (await k.request('GET', `/api/jobs/${r.body.id}`, { token: alice.token })).body;
      assert.deepEqual(d.comments.map((x: any) => x.text), ['stopped it']);
      assert.equal((await k.request('GET', `/api/jobs/${r.body.id}`, { token: bob.token })).status, 404);
      assert.ok(!(await k.request('GET', '/api/jobs', { token: bob.token })).body.items.some((j: any) => j.id === r.body.id));
      const summary = (await k.request('GET', `/api/jobs?view=summary&mine=true&status=archived`, { token: alice.token })).body.items;
      assert.ok(summary.some((j: any) => j.id === r.body.id) && !('request' in summary[0]));
      assert.equal((await k.request('POST', '/api/jobs/clear', { token: alice.token })).status, 403);
      assert.equal((await k.request('DELETE', `/api/jobs/${r.body.id}`, { token: alice.token })).status, 204);
      assert.equal((await k.request('GET', `/api/jobs/${r.body.id}`, { token: alice.token })).status, 404);
    });

    test('the SSE stream replays, resumes after Last-Event-ID, and ends with the job', async () => {
      const r = await create({ kind: 'command', request: { command: 'for i in 1 2 3; do echo line$i; sleep 0.05; done' } });
      const res = await fetch(`${k.baseUrl}/api/jobs/${r.body.id}/stream`, { headers: { authorization: `Bearer ${alice.token}` } });
      const frames = (await res.text()).split('\n\n').filter(f => f.includes('data:'));
      const ids = frames.map(f => Number(/id: (\d+)/.exec(f)![1]));
      assert.deepEqual([...ids].sort((a, b) => a - b), ids, 'in order');
      assert.deepEqual(frames.filter(f => f.includes('event: log')).map(f => JSON.parse(/data: (.*)/.exec(f)![1]).line), ['line1', 'line2', 'line3']);
      assert.match(frames[frames.length - 1], /"state":"done"/);
      const third = ids[2];
      const resumed = await fetch(`${k.baseUrl}/api/jobs/${r.body.id}/stream`, { headers: { authorization: `Bearer ${alice.token}`, 'last-event-id': String(third) } });
      const rest = (await resumed.text()).split('\n\n').filter(f => f.includes('data:')).map(f => Number(/id: (\d+)/.exec(f)![1]));
      assert.deepEqual(rest, ids.slice(3));
      assert.equal((await fetch(`${k.baseUrl}/api/jobs/${r.body.id}/stream`, { headers: { authorization: `Bearer ${bob.token}` } })).status, 404);
    });

    test('another plugin\'s kind runs; an idempotency key makes one job however often it is enqueued', async () => {
      const one = (await k.request('POST', '/api/jobs-client/enqueue', { token: alice.token, body: { keys: ['k1', 'k1', 'k2'] } })).body.items;
      assert.deepEqual(one.map((i: any) => i.created), [true, false, true]);
      assert.equal(one[0].id, one[1].id);
      const many = (await k.request('POST', '/api/jobs-client/enqueue', { token: alice.token, body: { keys: ['k2', 'k3', 'k4', 'k3'], many: true } })).body.items;
      assert.deepEqual(many.map((i: any) => i.created), [false, true, true, false]);
      assert.equal(many[0].id, one[2].id);
      assert.equal(many[1].id, many[3].id);
      const d = await waitForJob(k, many[1].id, ['done', 'failed']);
      assert.deepEqual(d.job.result, { n: 42 });
    });

    test('a hot reload hands a running job to the new generation: not a failed attempt, and it completes', async () => {
      const r = await create({ kind: 'command', request: { command: 'echo "run $PLINTH_JOB_ATTEMPT" >> runs.txt; sleep 2.5; echo end >> runs.txt' } });
      const runs = join(k.dataDir, 'plugins', 'jobs', 'work', r.body.id, 'runs.txt');
      await until(async () => { try { return readFileSync(runs, 'utf8').length > 0; } catch { return false; } }, 5000, 'first run started');
      const reload = await k.request('POST', '/api/plugins/jobs/reload');
      assert.equal(reload.status, 200, reload.text);
      const d = await waitForJob(k, r.body.id, ['done', 'failed'], undefined, 10_000);
      assert.equal(d.job.state, 'done', d.job.error);
      assert.equal(d.job.attempts, 1, 'the interrupted run does not count');
      assert.deepEqual(readFileSync(runs, 'utf8').trim().split('\n'), ['run 1', 'run 1', 'end'], 'the first run was stopped by the reload');
    });

    test('dispatcher status reports liveness and counts', async () => {
      const s = (await k.request('GET', '/api/dispatcher/status', { token: alice.token })).body;
      assert.equal(s.alive, true);
      assert.equal(s.concurrency, 4);
      assert.ok(s.kinds.includes('command') && s.kinds.includes('agent'));
      assert.equal(typeof s.queued, 'number');
      assert.ok(s.dispatchers.some((d: any) => d.kernelId === s.kernelId && d.alive));
    });
  });
}
