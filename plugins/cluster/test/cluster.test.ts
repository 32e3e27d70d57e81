import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createTestKernel, freshPostgresDatabase, sseFrames, type SseFrame, type TestKernel } from 'plinth/testing';

const NOTES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'notes');
const CLUSTER = join(__dirname, '..');
const PG = process.env.PLINTH_TEST_POSTGRES_URL;

function openWs(base: string, token: string): Promise<{ ws: WebSocket; events: any[]; wait(n: number, ms?: number): Promise<any[]> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base.replace('http', 'ws') + '/ws', { headers: { authorization: `Bearer ${token}` } });
    const events: any[] = [];
    const waiters: Array<() => void> = [];
    ws.on('message', d => {
      const m = JSON.parse(String(d));
      if (m.type === 'event') events.push(m.event);
      if (m.type === 'subscribed' || m.type === 'event') for (const w of waiters.splice(0)) w();
      if (m.type === 'subscribed') resolve(client);
    });
    const client = {
      ws, events,
      wait: (n: number, ms = 3000) => new Promise<any[]>((res, rej) => {
        const t = setTimeout(() => rej(new Error(`expected ${n} events within ${ms} ms, got ${events.length}`)), ms);
        const check = () => { if (events.length >= n) { clearTimeout(t); res(events); } else waiters.push(check); };
        check();
      }),
    };
    ws.once('open', () => ws.send(JSON.stringify({ type: 'subscribe', topics: ['notes.*', 'cluster.*'] })));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Opens an SSE stream and collects frames with data until closed. */
async function openSse(url: string, token: string) {
  const ctrl = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: ctrl.signal });
  assert.equal(res.status, 200);
  const frames: SseFrame[] = [];
  void (async () => { for await (const f of sseFrames(res.body!)) frames.push(f); })();
  return { frames, close: () => ctrl.abort() };
}

async function until(pred: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise(r => setTimeout(r, 20));
  }
}

describe('one kernel on SQLite is a cluster of one', () => {
  let k: TestKernel;
  before(async () => { k = await createTestKernel({ plugins: [{ path: CLUSTER }] }); });
  after(() => k.stop());

  test('GET /api/cluster lists this kernel alone, events stay local; admins only', async () => {
    const res = await k.request('GET', '/api/cluster');
    assert.equal(res.status, 200);
    assert.equal(res.body.events, 'local');
    assert.equal(res.body.items.length, 1);
    assert.equal(res.body.items[0].id, res.body.self);
    assert.equal(res.body.items[0].url, k.baseUrl);
    const { token } = await k.createUser();
    const refused = await k.request('GET', '/api/cluster', { token });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'PLINTH_ERR_FORBIDDEN');
  });

  test('internal events reach in-kernel subscribers and no /ws client, not even an admin on *', async () => {
    const seen: unknown[] = [];
    const dispose = k.events.subscribe('cluster.*', e => { seen.push(e.payload); });
    const ws = new WebSocket(k.baseUrl.replace('http', 'ws') + '/ws', { headers: { authorization: `Bearer ${k.adminToken}` } });
    const got: any[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', d => { const m = JSON.parse(String(d)); if (m.type === 'subscribed') resolve(); if (m.type === 'event') got.push(m.event); });
      ws.once('open', () => ws.send(JSON.stringify({ type: 'subscribe', topics: ['*'] })));
      ws.once('error', reject);
    });
    await k.events.publish('cluster.secret', { n: 1 }, { audience: 'internal' });
    await k.events.publish('cluster.public', { n: 2 });
    await until(() => got.length >= 1 && seen.length === 2);
    assert.deepEqual(got.map(e => e.topic), ['cluster.public']);
    ws.close();
    dispose();
  });

  test('transient event ids keep their one-kernel form', async () => {
    const e = await k.events.publish('cluster.ping', { n: 1 });
    assert.match(e.id, /^m\d+$/);
  });
});

for (const transport of ['postgres', 'redis'] as const) {
  describe(`two kernels on one PostgreSQL, events through ${transport}`, { skip: !PG && 'PLINTH_TEST_POSTGRES_URL not set' }, () => {
    let a: TestKernel;
    let b: TestKernel;
    let alice: { token: string; user: { id: string } };
    let bob: { token: string; user: { id: string } };
    before(async () => {
      const config = transport === 'redis' ? { redisUrl: process.env.PLINTH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' } : {};
      const plugins = [{ path: join(CLUSTER, '..', 'accounts') }, { path: NOTES }, { path: CLUSTER, config }];
      a = await createTestKernel({ plugins, database: 'postgres' });
      b = await createTestKernel({ plugins, databaseUrl: a.databaseUrl, settings: { adminToken: a.adminToken } });
      alice = await a.createUser();
      bob = await a.createUser();
    });
    after(async () => { await b?.stop(); await a?.stop(); });

    test('a WebSocket client on B receives an event caused through A, once, filtered by ownership', async () => {
      const onB = await openWs(b.baseUrl, alice.token);
      const bobOnB = await openWs(b.baseUrl, bob.token);
      const adminOnA = await openWs(a.baseUrl, a.adminToken);
      const created = await a.request('POST', '/api/notes', { token: alice.token, body: { text: 'from A' } });
      assert.equal(created.status, 201);
      const [event] = await onB.wait(1);
      assert.equal(event.topic, 'notes.created');
      assert.equal(event.payload.id, created.body.id);
      assert.match(event.id, /^\d+$/);
      // The publisher's own kernel delivers it once too (not again when its own signal comes back).
      await adminOnA.wait(1);
      await new Promise(r => setTimeout(r, 300));
      assert.equal(onB.events.length, 1);
      assert.equal(adminOnA.events.length, 1);
      assert.equal(bobOnB.events.length, 0, 'bob does not see alice\'s note on any kernel');
      // Bob's own note reaches him on B (the refusal above is ownership, not a dead link).
      await a.request('POST', '/api/notes', { token: bob.token, body: { text: 'bob' } });
      await bobOnB.wait(1);
      for (const c of [onB, bobOnB, adminOnA]) c.ws.close();
    });

    test('transient events, small and large, cross in publish order with ids unique across kernels', async () => {
      const onB = await openWs(b.baseUrl, b.adminToken);
      const big = 'x'.repeat(20_000);
      const published = [];
      for (let i = 0; i < 20; i++) published.push(await a.events.publish('cluster.tick', { i, pad: i % 5 === 0 ? big : '' }));
      const got = await onB.wait(20);
      assert.deepEqual(got.map(e => e.payload.i), [...Array(20).keys()]);
      assert.equal(got[0].payload.pad.length, 20_000);
      assert.deepEqual(got.map(e => e.id), published.map(e => e.id));
      assert.match(published[0].id, /^m\d+\.[a-z2-7]{8}$/);
      const fromB = await b.events.publish('cluster.tick', { i: 99 });
      assert.notEqual(fromB.id, published[0].id);
      onB.ws.close();
    });

    test('in-kernel subscribers on B see A\'s events', async () => {
      const seen: string[] = [];
      const dispose = b.events.subscribe('cluster.inner', e => { seen.push((e.payload as any).v); });
      await a.events.publish('cluster.inner', { v: 'one' });
      await a.events.publish('cluster.inner', { v: 'two' }, { persist: true });
      await until(() => seen.length === 2);
      assert.deepEqual(seen, ['one', 'two']);
      dispose();
    });

    test('an SSE stream opened on B shows notes created on A live, exactly once, after its replay', async () => {
      await a.request('POST', '/api/notes', { token: alice.token, body: { text: 'before' } });
      const sse = await openSse(b.baseUrl + '/api/notes/stream', alice.token);
      await until(() => sse.frames.some(f => f.data.text === 'before'));
      const live = await a.request('POST', '/api/notes', { token: alice.token, body: { text: 'live on A' } });
      await until(() => sse.frames.some(f => f.data.id === live.body.id));
      await new Promise(r => setTimeout(r, 200));
      assert.equal(sse.frames.filter(f => f.data.id === live.body.id).length, 1);
      const ids = sse.frames.map(f => Number(f.id));
      assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'frames in log order');
      sse.close();
    });

    test('a token revoked through A is refused by B within 1 s (B had it cached)', async () => {
      const carol = await a.createUser();
      const { id, token } = await a.users.createToken(carol.user.id);
      assert.equal((await b.request('GET', '/auth/me', { token })).status, 200);
      assert.equal((await b.request('GET', '/auth/me', { token })).body.user.id, carol.user.id);
      const started = Date.now();
      assert.equal((await a.request('DELETE', `/api/tokens/${id}`)).status, 204);
      await until(async () => (await b.request('GET', '/auth/me', { token })).status === 401, 1000);
      assert.ok(Date.now() - started < 1000);
      assert.equal((await b.request('GET', '/auth/me', { token: carol.token })).status, 200, 'her other token still works');
    });

    test('a user disabled, promoted or deleted through A is so on B within 1 s', async () => {
      const dave = await a.createUser();
      assert.equal((await b.request('GET', '/api/users', { token: dave.token })).status, 403);
      assert.equal((await a.request('PATCH', `/api/users/${dave.user.id}`, { body: { role: 'admin' } })).status, 200);
      await until(async () => (await b.request('GET', '/api/users', { token: dave.token })).status === 200, 1000);
      assert.equal((await a.request('PATCH', `/api/users/${dave.user.id}`, { body: { disabled: true } })).status, 200);
      await until(async () => (await b.request('GET', '/auth/me', { token: dave.token })).status === 401, 1000);
      assert.equal((await a.request('PATCH', `/api/users/${dave.user.id}`, { body: { disabled: false } })).status, 200);
      await until(async () => (await b.request('GET', '/auth/me', { token: dave.token })).status === 200, 1000);
      assert.equal((await a.request('DELETE', `/api/users/${dave.user.id}`)).status, 204);
      await until(async () => (await b.request('GET', '/auth/me', { token: dave.token })).status === 401, 1000);
    });

    test('failed logins count across kernels', async () => {
      const email = `throttle-${Date.now()}@example.test`;
      await a.kernel.auth.createUser({ email, password: 'right-password', role: 'user' });
      const login = (k: TestKernel, password: string) => k.request('POST', '/auth/login', { token: null, body: { email, password } });
      for (let i = 0; i < 10; i++) assert.equal((await login(i % 2 ? a : b, 'wrong-password')).status, 401);
      const refused = await login(b, 'right-password');
      assert.equal(refused.status, 429);
      assert.equal(refused.body.error.code, 'PLINTH_ERR_TOO_MANY_LOGINS');
      assert.equal((await login(a, 'right-password')).status, 429);
    });

    test('the per-user SSE and WebSocket caps count the user\'s connections on every kernel', async () => {
      a.kernel.settings.maxSsePerUser = b.kernel.settings.maxSsePerUser = 2;
      a.kernel.settings.maxWsPerUser = b.kernel.settings.maxWsPerUser = 1;
      try {
        const erin = await a.createUser();
        const s1 = await openSse(a.baseUrl + '/api/notes/stream', erin.token);
        const s2 = await openSse(a.baseUrl + '/api/notes/stream', erin.token);
        const third = () => fetch(b.baseUrl + '/api/notes/stream', { headers: { authorization: `Bearer ${erin.token}` } });
        // B learns A's count within a round trip of the first attempt.
        let refused: Response | undefined;
        await until(async () => {
          const r = await third();
          if (r.status === 429) { refused = r; return true; }
          await r.body?.cancel();
          return false;
        });
        assert.equal((await refused!.json() as any).error.code, 'PLINTH_ERR_TOO_MANY_CONNECTIONS');
        s1.close();
        await until(async () => {
          const r = await third();
          await r.body?.cancel();
          return r.status === 200;
        });
        s2.close();
        const w = await openWs(a.baseUrl, erin.token);
        await until(async () => openWs(b.baseUrl, erin.token).then(x => { x.ws.close(); return false; }, err => /429/.test(err.message)));
        w.ws.close();
      } finally {
        a.kernel.settings.maxSsePerUser = b.kernel.settings.maxSsePerUser = 32;
        a.kernel.settings.maxWsPerUser = b.kernel.settings.maxWsPerUser = 32;
      }
    });

    test('a reload of the cluster plugin keeps this node listed and events crossing, once, through the new generation', async () => {
      const before = (await b.request('GET', '/api/cluster')).body;
      assert.equal((await b.request('POST', '/api/plugins/cluster/reload')).status, 200);
      assert.equal((await b.request('GET', '/api/plugins/cluster')).body.generation, 2);
      const after = (await a.request('GET', '/api/cluster')).body;
      assert.ok(after.items.some((n: any) => n.id === before.self && n.url === b.baseUrl), 'the retired generation did not remove the row its successor took over');
      const onB = await openWs(b.baseUrl, b.adminToken);
      await a.events.publish('cluster.after-reload', { v: 1 });
      await onB.wait(1);
      const fromB = await b.events.publish('cluster.after-reload', { v: 2 });
      assert.match(fromB.id, /^m\d+\.[a-z2-7]{8}$/, 'B still numbers transient events for the cluster');
      await new Promise(r => setTimeout(r, 200));
      assert.deepEqual(onB.events.map(e => e.payload.v), [1, 2]);
      onB.ws.close();
    });

    test('GET /api/cluster lists both live kernels; a lapsed heartbeat is dead to the others', async () => {
      const res = await a.request('GET', '/api/cluster');
      assert.equal(res.status, 200);
      assert.equal(res.body.events, transport);
      const urls = res.body.items.map((n: any) => n.url).sort();
      assert.deepEqual(urls, [a.baseUrl, b.baseUrl].sort());
      const fromB = await b.request('GET', '/api/cluster');
      assert.notEqual(fromB.body.self, res.body.self);
      assert.deepEqual(fromB.body.items.map((n: any) => n.id).sort(), res.body.items.map((n: any) => n.id).sort());
      // A node that stopped beating a minute ago (killed) is not listed.
      const { Client } = require('pg');
      const c = new Client({ connectionString: a.databaseUrl });
      await c.connect();
      await c.query(`INSERT INTO cluster_nodes (id, url, version, started_at, heartbeat_at) VALUES ('node_dead', 'http://127.0.0.1:1', '0', $1, $2)`,
        [new Date().toISOString(), Date.now() - 60_000]);
      await c.end();
      const after = await a.request('GET', '/api/cluster');
      assert.equal(after.body.items.length, 2);
      assert.ok(!after.body.items.some((n: any) => n.id === 'node_dead'));
    });
  });
}

// Found by the chaos run (issue 15): kernels started together on a fresh database all stored
// PLINTH_ADMIN_TOKEN, and those that lost the race on its unique hash exited at start.
test('kernels started together on a fresh PostgreSQL all start, and the shared admin token works on each', { skip: !PG && 'PLINTH_TEST_POSTGRES_URL not set' }, async () => {
  const db = await freshPostgresDatabase(PG!);
  const adminToken = 'plt_together_' + Date.now();
  const started = await Promise.allSettled(Array.from({ length: 4 }, () =>
    createTestKernel({ plugins: [{ path: NOTES }], databaseUrl: db.databaseUrl, settings: { adminToken } })));
  try {
    assert.deepEqual(started.map(s => s.status === 'rejected' ? String(s.reason).slice(0, 200) : 'started'), Array(4).fill('started'));
    for (const s of started) {
      const k = (s as PromiseFulfilledResult<TestKernel>).value;
      const me = await fetch(k.baseUrl + '/api/plugins', { headers: { authorization: `Bearer ${adminToken}` } });
      assert.equal(me.status, 200);
    }
  } finally {
    await Promise.all(started.map(s => s.status === 'fulfilled' ? s.value.stop() : undefined));
    await db.dropDatabase();
  }
});
