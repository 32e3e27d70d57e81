import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { join } from 'node:path';
import { NGINX, startKernelCluster, until, type KernelCluster } from '../helpers/cluster';
import type { ServerProcess } from '../helpers/server';
import { sseFrames } from 'plinth/testing';

const ROOT = join(__dirname, '..', '..');
const PG = process.env.PLINTH_TEST_POSTGRES_URL;
const skip = !PG ? 'PLINTH_TEST_POSTGRES_URL not set' : !NGINX ? 'nginx is not installed (.ci/run installs it)' : false;

/**
 * Three kernel processes (`node bin/plinth.js start`) on one fresh PostgreSQL database behind
 * nginx with deploy/nginx.conf: round-robin, no stickiness. Only kernel A dispatches jobs.
 */
describe('three kernels behind nginx', { skip }, () => {
  let cluster: KernelCluster;
  let kernels: ServerProcess[] = [];
  let lb = '';
  let adminToken = '';
  const api = (base: string, path: string, init: RequestInit & { token?: string } = {}) =>
    fetch(base + path, { ...init, headers: { authorization: `Bearer ${init.token ?? adminToken}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });

  before(async () => {
    cluster = await startKernelCluster({
      postgresUrl: PG!,
      plugins: i => [
        { id: 'accounts', path: join(ROOT, 'plugins', 'accounts') },
        { id: 'notes', path: join(ROOT, 'test', 'fixtures', 'notes') },
        { id: 'jobs', path: join(ROOT, 'plugins', 'jobs'), config: { concurrency: i === 0 ? 2 : 0, pollMs: 100 } },
      ],
    });
    ({ kernels, lb, adminToken } = cluster);
  });

  after(() => cluster?.stop());

  test('requests are spread round-robin over the three kernels, and each lists the three live nodes', async () => {
    const nodes = new Set<string>();
    for (let i = 0; i < 6; i++) nodes.add((await api(lb, '/api/health')).headers.get('x-plinth-node')!);
    assert.equal(nodes.size, 3);
    const cluster = await (await api(lb, '/api/cluster')).json() as any;
    assert.deepEqual(cluster.items.map((n: any) => n.id).sort(), [...nodes].sort());
    assert.deepEqual(cluster.items.map((n: any) => n.url).sort(), kernels.map(k => k.baseUrl).sort());
    assert.equal(cluster.events, 'postgres');
  });

  test('a WebSocket client on kernel B receives the event of a note created through kernel A', async () => {
    const [a, b] = kernels;
    const ws = new WebSocket(b.baseUrl.replace('http', 'ws') + '/ws', { headers: { authorization: `Bearer ${adminToken}` } });
    const got: any[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', d => { const m = JSON.parse(String(d)); if (m.type === 'subscribed') resolve(); if (m.type === 'event') got.push(m.event); });
      ws.once('open', () => ws.send(JSON.stringify({ type: 'subscribe', topics: ['notes.*'] })));
      ws.once('error', reject);
    });
    const created = await (await api(a.baseUrl, '/api/notes', { method: 'POST', body: JSON.stringify({ text: 'via A' }) })).json() as any;
    await until(async () => got.some(e => e.payload.id === created.id), 3000, 'the event on B');
    await new Promise(r => setTimeout(r, 200));
    assert.equal(got.filter(e => e.payload.id === created.id).length, 1);
    ws.close();
  });

  test('an SSE job stream opened on kernel B shows the job running on kernel A live', async () => {
    const [a, b] = kernels;
    const job = await (await api(b.baseUrl, '/api/jobs', { method: 'POST', body: JSON.stringify({ kind: 'command', request: { command: 'echo first; sleep 1.5; echo second' } }) })).json() as any;
    assert.ok(job.id, JSON.stringify(job));
    const res = await api(b.baseUrl, `/api/jobs/${job.id}/stream`, { signal: AbortSignal.timeout(30_000) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-plinth-node'), (await api(b.baseUrl, '/api/health')).headers.get('x-plinth-node'));
    const frames: Array<{ event: string; data: any; at: number }> = [];
    for await (const f of sseFrames(res.body!)) if (f.event) frames.push({ event: f.event, data: f.data, at: Date.now() });
    const states = frames.filter(f => f.event === 'state').map(f => f.data.state);
    assert.ok(states.includes('running'), JSON.stringify(frames.map(f => f.event)));
    assert.equal(states.at(-1), 'done');
    // Live: the state change to done came well after the stream opened and its first frames.
    const running = frames.find(f => f.event === 'state' && f.data.state === 'running')!;
    const done = frames.find(f => f.event === 'state' && f.data.state === 'done')!;
    assert.ok(done.at - running.at >= 1000, `frames arrived ${done.at - running.at} ms apart`);
    const detail = await (await api(a.baseUrl, `/api/jobs/${job.id}`)).json() as any;
    assert.equal(detail.job.state, 'done');
    assert.equal(detail.attempts.length, 1);
  });

  test('a token revoked through kernel A is refused by kernel B within 1 s', async () => {
    const [a, b] = kernels;
    const user = await (await api(a.baseUrl, '/api/users', { method: 'POST', body: JSON.stringify({ email: `lb-${Date.now()}@example.test` }) })).json() as any;
    const tok = await (await api(a.baseUrl, `/api/users/${user.user.id}/tokens`, { method: 'POST', body: '{}' })).json() as any;
    assert.equal((await api(b.baseUrl, '/auth/me', { token: tok.token })).status, 200, 'B caches the token');
    const t0 = Date.now();
    assert.equal((await api(a.baseUrl, `/api/tokens/${tok.id}`, { method: 'DELETE' })).status, 204);
    await until(async () => (await api(b.baseUrl, '/auth/me', { token: tok.token })).status === 401, 1000, 'refusal on B');
    assert.ok(Date.now() - t0 < 1000);
    // And through the balancer, whichever kernel answers.
    for (let i = 0; i < 3; i++) assert.equal((await api(lb, '/auth/me', { token: tok.token })).status, 401);
  });
});
