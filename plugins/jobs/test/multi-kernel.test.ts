import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createTestKernel } from 'plinth/testing';
import { until } from './helpers';

const JOBS = join(__dirname, '..');
const config = { concurrency: 3, pollMs: 50, heartbeatMs: 100, leaseMs: 2000 };

describe('two kernels on one database', () => {
  test('every job runs exactly once, and both kernels take a share', async () => {
    const a = await createTestKernel({ keepData: true, plugins: [{ path: JOBS, config }] });
    const admin = await a.createUser({ role: 'admin' });
    const b = await createTestKernel({ dataDir: a.dataDir, plugins: [{ path: JOBS, config }] });
    // A (sandboxed) job writes only its own folder: each appends its id to a ledger there.
    const ledgers = () => readdirSync(join(a.dataDir, 'plugins', 'jobs', 'work')).map(id => join(a.dataDir, 'plugins', 'jobs', 'work', id, 'ledger.txt')).filter(f => existsSync(f));
    try {
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) {
        const k = i % 2 ? a : b;
        const r = await k.request('POST', '/api/jobs', { token: admin.token, body: { kind: 'command', request: { command: 'sleep 0.05; echo $PLINTH_JOB_ID >> ledger.txt' } } });
        assert.equal(r.status, 201, r.text);
        ids.push(r.body.id);
      }
      const details = await until(async () => {
        const ds = await Promise.all(ids.map(async id => (await a.request('GET', `/api/jobs/${id}`, { token: admin.token })).body));
        return ds.every(d => d.job.state === 'done') ? ds : undefined;
      }, 20_000, 'all done');
      const lines = ledgers().flatMap(f => readFileSync(f, 'utf8').trim().split('\n'));
      assert.equal(lines.length, ids.length, 'no job ran twice');
      assert.deepEqual([...lines].sort(), [...ids].sort());
      const kernels = new Set(details.map(d => d.attempts[0].kernel));
      assert.equal(kernels.size, 2, 'both dispatchers claimed jobs');
      const status = (await b.request('GET', '/api/dispatcher/status', { token: admin.token })).body;
      assert.equal(status.dispatchers.filter((d: any) => d.alive).length, 2);
    } finally {
      await b.stop();
      await a.stop();
      rmSync(a.dataDir, { recursive: true, force: true });
    }
  });
});
