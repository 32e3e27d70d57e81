import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, until, type ServerProcess } from '../helpers/server';

const JOBS = join(__dirname, '..', '..', 'plugins', 'jobs');
const SCHEDULES = join(__dirname, '..', '..', 'plugins', 'schedules');
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

// One attempt: note the start, work for 5 s, note the end. Killed halfway, only the start is there.
const SCRIPT = `const fs = require('fs');
const out = process.argv[2];
fs.appendFileSync(out, 'start ' + process.env.PLINTH_JOB_ATTEMPT + '\\n');
setTimeout(() => { fs.appendFileSync(out, 'end ' + process.env.PLINTH_JOB_ATTEMPT + '\\n'); console.log('worked'); }, 5000);
`;

describe('kill -9 of the server', () => {
  const servers: ServerProcess[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-crash-'));
  after(() => {
    for (const s of servers) s.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a running command job is reclaimed and completes, its side effect once per counted attempt; a one-shot due in the downtime fires once', async () => {
    const registry = join(dataDir, 'registry.json');
    writeFileSync(registry, JSON.stringify({
      plugins: [
        // The job's script and side-effect log live in the data dir, which the sandbox hides: this
        // test is about reclaiming work across a crash, so the admin opts the jobs out of it.
        { id: 'jobs', path: JOBS, config: { leaseMs: 1500, heartbeatMs: 300, pollMs: 200, backoffBaseMs: 100, sandbox: 'off' } },
        { id: 'schedules', path: SCHEDULES, config: { pollMs: 200 } },
      ],
    }));
    const script = join(dataDir, 'work.js');
    const sideEffects = join(dataDir, 'side-effects.log');
    writeFileSync(script, SCRIPT);
    const env = { PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry, PLINTH_ADMIN_TOKEN: 'plt_crash_test_token_0123456789' };
    const api = (s: ServerProcess) => async (method: string, path: string, body?: unknown) => {
      const res = await fetch(s.baseUrl + path, { method, headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: await res.json().catch(() => undefined) as any };
    };

    const first = await startServer(env);
    servers.push(first);
    const call1 = api(first);
    const job = await call1('POST', '/api/jobs', { kind: 'command', max_retries: 2, request: { argv: ['node', script, sideEffects] } });
    assert.equal(job.status, 201, JSON.stringify(job.body));
    const at = new Date(Date.now() + 1500).toISOString();
    const once = await call1('POST', '/api/schedules', { at, job: { kind: 'command', request: { command: 'echo fired' } } });
    assert.equal(once.status, 201, JSON.stringify(once.body));
    await until(async () => existsSync(sideEffects) && readFileSync(sideEffects, 'utf8').includes('start 1'), 8000, 'attempt 1 started');
    first.kill('SIGKILL');
    await first.exited;
    await sleep(1600); // the one-shot falls due while nothing runs

    const second = await startServer(env);
    servers.push(second);
    const call2 = api(second);
    const done = await until(async () => {
      const d = (await call2('GET', `/api/jobs/${job.body.id}`)).body;
      return d?.job?.state === 'done' || d?.job?.state === 'failed' ? d : undefined;
    }, 20_000, 'the reclaimed job finished');
    assert.equal(done.job.state, 'done', done.job.error);
    assert.equal(done.job.attempts, 2);
    assert.deepEqual(done.attempts.map((a: any) => a.outcome), ['lost', 'done']);
    // The orphan of attempt 1 was killed on reclaim: it never finished its work.
    assert.deepEqual(readFileSync(sideEffects, 'utf8').trim().split('\n'), ['start 1', 'start 2', 'end 2']);
    assert.match(second.output(), /killed the orphaned process/);

    const fired = await until(async () => {
      const r = (await call2('GET', `/api/schedules/${once.body.id}/jobs`)).body;
      return r?.items?.length ? r : undefined;
    }, 5000, 'the one-shot fired after restart');
    assert.equal(fired.items.length, 1);
    second.kill('SIGTERM');
    await second.exited;

    const third = await startServer(env);
    servers.push(third);
    await sleep(600);
    assert.equal((await api(third)('GET', `/api/schedules/${once.body.id}/jobs`)).body.items.length, 1, 'no second fire after another restart');
    third.kill('SIGTERM');
    await third.exited;
  });
});
