/**
 * Issue 14, "Plugins in a sandbox": the same hostile plugin runs in-process (where each attempt
 * succeeds, so no check below is vacuous) and with `isolation: "sandbox"` (where each fails), and
 * the kernel keeps answering throughout. Attempts that would take an in-process kernel down with
 * them (a busy loop, exiting, running out of memory) are shown only in the sandbox.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServiceRef, definePlugin } from 'plinth/sdk';
import { createTestKernel, waitFor, type TestKernel } from 'plinth/testing';

process.env.PLINTH_SANDBOX_CALL_TIMEOUT_MS = '1500';
process.env.PLINTH_SANDBOX_HEARTBEAT_MS = '700';
process.env.OPENAI_API_KEY = 'sk-provider-key';
process.env.OTHER_PLUGIN_SECRET = 'other-plugin-secret';
process.env.HOSTILE_OWN_SECRET = 'its-own-secret';
const FIXTURE = join(__dirname, 'fixtures', 'hostile-plugin');
const OUTSIDE = mkdtempSync(join(tmpdir(), 'plinth-hostile-outside-'));
const counterRef = createServiceRef<{ add(n: number): number; adder(): (n: number) => number }>({ id: 'victim.counter' });
const victim = {
  manifest: { id: 'victim', permissions: { secrets: ['OTHER_PLUGIN_SECRET'] } },
  plugin: definePlugin({ provides: [counterRef], async setup({ storage, provide }) {
    let total = 0;
    provide(counterRef, { add: n => (total += n), adder: () => (n: number) => n });
    await storage.open({ migrations: [{ name: 'secrets', up: async d => { await d.query(`CREATE TABLE ${d.table('secrets')} (v TEXT)`); await d.query(`INSERT INTO ${d.table('secrets')} VALUES ('victim-data')`); } }] });
  } }),
};

const kernelOf = (isolation: 'in-process' | 'sandbox', path = FIXTURE) => createTestKernel({ plugins: [victim, { path, isolation }] });
const get = async (k: TestKernel, path: string) => (await k.request('GET', `/api/hostile${path}`, { token: null })).body;
const listen = (s: Server | ReturnType<typeof createTcpServer>) => new Promise<number>(r => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));

describe('a hostile plugin, in-process and sandboxed', () => {
  let inproc: TestKernel;
  let boxed: TestKernel;
  let tcp: ReturnType<typeof createTcpServer>;
  let tcpPort: number;
  let web: Server;
  let webPort: number;
  before(async () => {
    tcp = createTcpServer(s => s.end());
    tcpPort = await listen(tcp);
    web = createHttpServer((_q, res) => res.end('granted'));
    webPort = await listen(web);
    inproc = await kernelOf('in-process');
    boxed = await kernelOf('sandbox');
    process.env.PLINTH_ADMIN_TOKEN = boxed.adminToken;
  });
  after(async () => { await inproc?.stop(); await boxed?.stop(); tcp.close(); web.close(); });

  const reload = async () => assert.equal((await boxed.request('POST', '/api/plugins/hostile/reload')).status, 200);
  const kernelAnswers = async () => assert.equal((await boxed.request('GET', '/api/plugins')).status, 200);

  test('both serve, and the sandboxed one uses its own storage, folder and granted secret', async () => {
    for (const k of [inproc, boxed]) {
      assert.deepEqual(await get(k, '/ping'), { pong: true });
      assert.deepEqual(await get(k, '/own-sql'), { ok: true, value: 1 });
      assert.deepEqual(await get(k, '/own-write'), { ok: true, value: 'x' });
      assert.equal((await get(k, '/env')).own, 'its-own-secret');
    }
  });

  test('environment: no admin token, provider key or other plugin\'s secret in the sandbox', async () => {
    const seen = await get(inproc, '/env');
    assert.equal(seen.provider, 'sk-provider-key');
    assert.equal(seen.other, 'other-plugin-secret');
    assert.ok(seen.admin);
    assert.deepEqual(await get(boxed, '/env'), { admin: null, provider: null, other: null, own: 'its-own-secret' });
  });

  test('files: the data dir (SQLite file, admin-token) cannot be read, nothing outside its folder written', async () => {
    for (const k of [inproc, boxed]) {
      const sandboxed = k === boxed;
      for (const file of [join(k.dataDir, 'plinth.db'), join(k.dataDir, 'admin-token')].filter(existsSync)) {
        assert.equal((await get(k, `/read?path=${encodeURIComponent(file)}`)).ok, !sandboxed, file);
      }
      const target = join(OUTSIDE, `${sandboxed ? 'boxed' : 'inproc'}.txt`);
      assert.equal((await k.request('POST', `/api/hostile/write?path=${encodeURIComponent(target)}`, { token: null })).body.ok, !sandboxed);
      assert.equal(existsSync(target), !sandboxed);
    }
  });

  test('storage: another plugin\'s tables and the kernel\'s are refused', async () => {
    for (const q of ['SELECT v FROM victim_secrets', 'SELECT * FROM kernel_users', "SELECT name FROM sqlite_master"]) {
      assert.equal((await get(inproc, `/sql?q=${encodeURIComponent(q)}`)).ok, true, q);
      const r = await get(boxed, `/sql?q=${encodeURIComponent(q)}`);
      assert.equal(r.ok, false, q);
      assert.match(r.error, /only its own tables/);
    }
  });

  test('network: no raw TCP to loopback (PostgreSQL, Redis, a listening port), no ungranted host', async () => {
    assert.deepEqual(await get(inproc, `/tcp?port=${tcpPort}`), { ok: true, value: 'connected' });
    for (const port of [5432, 6379, tcpPort]) assert.equal((await get(boxed, `/tcp?port=${port}`)).ok, false, String(port));
    assert.deepEqual(await get(inproc, `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${webPort}/`)}`), { ok: true, value: 200 });
    assert.equal((await get(boxed, `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${webPort}/`)}`)).ok, false);
    await kernelAnswers();
  });

  test('processes: no shell unless exec is granted', async () => {
    assert.deepEqual(await get(inproc, '/spawn'), { ok: true, value: 'spawned' });
    const r = await get(boxed, '/spawn');
    assert.equal(r.ok, false);
  });

  test('SSE crosses the channel', async () => {
    const r = await boxed.request('GET', '/api/hostile/stream', { token: null });
    assert.match(r.text, /id: 3\ndata: \{"n":3\}/);
  });

  test('a timer that throws marks it error; the kernel serves on', async () => {
    await get(boxed, '/timer-throw');
    await waitFor(async () => (await boxed.request('GET', '/api/plugins/hostile')).body.status === 'error');
    await kernelAnswers();
    await reload();
  });

  test('a busy loop answers 504, then the missed heartbeat restarts the process', async () => {
    const started = Date.now();
    const [busy, other] = await Promise.all([boxed.request('GET', '/api/hostile/busy', { token: null }), (async () => { await kernelAnswers(); return Date.now() - started; })()]);
    assert.equal(busy.status, 504);
    assert.equal(busy.body.error.code, 'PLINTH_ERR_PLUGIN_TIMEOUT');
    assert.ok(other < 1000, `the kernel answered in ${other} ms`);
    await waitFor(async () => (await boxed.request('GET', '/api/hostile/ping', { token: null })).status === 200, 'it serves again', 10_000);
    await reload();
  });

  test('memory past its cap ends its process, not the kernel', async () => {
    assert.deepEqual(await get(inproc, '/alloc?mb=150'), { ok: true, value: 1200 });
    const r = await boxed.request('GET', '/api/hostile/alloc?mb=150', { token: null });
    assert.equal(r.status, 502);
    await kernelAnswers();
    await waitFor(async () => (await boxed.request('GET', '/api/hostile/ping', { token: null })).status === 200, 'it serves again', 10_000);
    await reload();
  });

  test('exiting: restarted with backoff, and given up after 3 crashes in 5 minutes', async () => {
    for (let i = 1; i <= 3; i++) {
      await waitFor(async () => (await boxed.request('GET', '/api/hostile/ping', { token: null })).status === 200, 'it serves again', 10_000);
      assert.equal((await boxed.request('GET', '/api/hostile/exit', { token: null })).status, 502);
      await kernelAnswers();
    }
    await waitFor(async () => /not restarted again/.test((await boxed.request('GET', '/api/plugins/hostile')).body.error?.message ?? ''));
    await new Promise(r => setTimeout(r, 2500));
    assert.equal((await boxed.request('GET', '/api/hostile/ping', { token: null })).status, 502);
    await reload();
    assert.deepEqual(await get(boxed, '/ping'), { pong: true });
  });

  test('the same plugin granted a host (a local server standing in) and exec reaches the host, through the proxy only, and starts a shell', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plinth-granted-'));
    cpSync(FIXTURE, dir, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(dir, 'plugin.json'), 'utf8'));
    manifest.permissions.network = ['localhost'];
    manifest.permissions.exec = true;
    writeFileSync(join(dir, 'plugin.json'), JSON.stringify(manifest));
    const granted = await kernelOf('sandbox', dir);
    try {
      assert.deepEqual(await get(granted, `/fetch?url=${encodeURIComponent(`http://localhost:${webPort}/`)}`), { ok: true, value: 200 });
      assert.deepEqual(await get(granted, '/spawn'), { ok: true, value: 'spawned' });
      // Only what the grant names: the same server by another name, and raw TCP, stay refused.
      assert.equal((await get(granted, `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${webPort}/`)}`)).ok, false);
      assert.equal((await get(granted, `/tcp?port=${tcpPort}`)).ok, false);
    } finally { await granted.stop(); }
  });
});

describe('a sandboxed plugin on PostgreSQL', { skip: !process.env.PLINTH_TEST_POSTGRES_URL && 'PLINTH_TEST_POSTGRES_URL is not set' }, () => {
  test('its own tables work; another plugin\'s, the kernel\'s and the catalogues are refused', async () => {
    const k = await createTestKernel({ plugins: [victim, { path: FIXTURE, isolation: 'sandbox' }], database: 'postgres' });
    try {
      assert.deepEqual(await get(k, '/own-sql'), { ok: true, value: 1 });
      for (const q of ['SELECT v FROM victim_secrets', 'SELECT * FROM kernel_users', 'SELECT * FROM pg_catalog.pg_tables', 'SELECT * FROM information_schema.tables']) {
        const r = await get(k, `/sql?q=${encodeURIComponent(q)}`);
        assert.equal(r.ok, false, q);
        assert.match(r.error, /only its own tables/);
      }
    } finally { await k.stop(); }
  });

  // U&"…" is PostgreSQL's escaped identifier: the SQL check sees no table name in it, so what
  // refuses these is the database, the plugin's statements running as a role of its own.
  const around = (table: string) => `U&"${table.slice(0, -1)}\\${table.slice(-1).charCodeAt(0).toString(16).padStart(4, '0')}"`;
  test('its own role: what the SQL check misses, the database refuses (another plugin\'s tables, a sandboxed neighbour\'s, the kernel\'s); in-process the same query reads them', async () => {
    const keeper = mkdtempSync(join(tmpdir(), 'plinth-keeper-'));
    writeFileSync(join(keeper, 'plugin.json'), JSON.stringify({ id: 'keeper', version: '1.0.0', kernel: '^1.0.0', main: 'index.ts' }));
    writeFileSync(join(keeper, 'index.ts'), `import { definePlugin } from 'plinth/sdk';
export default definePlugin({ async setup({ storage }) {
  await storage.open({ migrations: [{ name: 'notes', up: async d => { await d.query(\`CREATE TABLE \${d.table('notes')} (v TEXT)\`); await d.query(\`INSERT INTO \${d.table('notes')} VALUES ('keeper-data')\`); } }] });
} });
`);
    const queries = {
      victim: `SELECT v FROM public.${around('victim_secrets')}`,
      kernel: `SELECT id FROM public.${around('kernel_users')}`,
      neighbour: `SELECT v FROM plugin_keeper.${around('keeper_notes')}`,
    };
    const inproc = await createTestKernel({ plugins: [victim, { path: FIXTURE, isolation: 'in-process' }], database: 'postgres' });
    try {
      assert.deepEqual(await get(inproc, `/sql?q=${encodeURIComponent(queries.victim)}`), { ok: true, value: [{ v: 'victim-data' }] }, 'the query reads the table when nothing stops it');
      assert.equal((await get(inproc, `/sql?q=${encodeURIComponent(queries.kernel)}`)).ok, true);
    } finally { await inproc.stop(); }
    const k = await createTestKernel({ plugins: [victim, { path: keeper, isolation: 'sandbox' }, { path: FIXTURE, isolation: 'sandbox' }], database: 'postgres' });
    try {
      assert.deepEqual(await get(k, '/own-sql'), { ok: true, value: 1 });
      for (const [what, q] of Object.entries(queries)) {
        const r = await get(k, `/sql?q=${encodeURIComponent(q)}`);
        assert.equal(r.ok, false, what);
        assert.match(r.error, /permission denied for (table|schema)/, what);
      }
      const roles = (await k.request('GET', '/api/plugins/keeper')).body;
      assert.equal(roles.status, 'active', 'the neighbour set up its own schema');
    } finally { await k.stop(); }
  });
});

describe('services across the channel', () => {
  test('events both ways, timers, and a service it depends on cross the channel; a function-valued answer fails clearly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plinth-sandboxed-consumer-'));
    writeFileSync(join(dir, 'plugin.json'), JSON.stringify({ id: 'consumer', version: '1.0.0', kernel: '^1.0.0', main: 'index.ts', dependsOn: ['victim'] }));
    writeFileSync(join(dir, 'index.ts'), `import { createServiceRef, definePlugin } from 'plinth/sdk';
const counterRef = createServiceRef<any>({ id: 'victim.counter' });
export default definePlugin({
  deps: { counter: counterRef },
  setup({ http, counter, events, timers, log }) {
    const seen: unknown[] = [];
    events.subscribe('test.ping', async e => { seen.push(e.payload); await events.publish('test.pong', e.payload); });
    let ticks = 0;
    timers.setInterval(() => { ticks++; }, 20);
    log.info('consumer up', { sandboxed: true });
    http.get('/seen', { auth: 'public' }, () => ({ seen, ticking: ticks > 0 }));
    http.get('/add', { auth: 'public' }, async () => ({ total: await counter.add(2) }));
    http.get('/adder', { auth: 'public' }, async () => { await counter.adder(); return { crossed: true }; });
  },
});
`);
    const k = await createTestKernel({ plugins: [victim, { path: dir, isolation: 'sandbox' }] });
    try {
      const pongs: unknown[] = [];
      const off = k.events.subscribe('test.pong', e => { pongs.push(e.payload); });
      await k.events.publish('test.ping', { n: 1 });
      await waitFor(() => pongs.length === 1, 'the pong published from the sandbox');
      off();
      // Its 20 ms interval has ticked once 20 ms have passed in its process, which the ping may beat.
      await waitFor(async () => (await k.request('GET', '/api/consumer/seen', { token: null })).body.ticking === true, 'its interval ticking');
      assert.deepEqual((await k.request('GET', '/api/consumer/seen', { token: null })).body, { seen: [{ n: 1 }], ticking: true });
      assert.deepEqual((await k.request('GET', '/api/consumer/add', { token: null })).body, { total: 2 });
      assert.deepEqual((await k.request('GET', '/api/consumer/add', { token: null })).body, { total: 4 });
      const r = await k.request('GET', '/api/consumer/adder', { token: null });
      assert.equal(r.status, 500);
      assert.equal(r.body.error.code, 'PLINTH_ERR_SANDBOX_UNSUPPORTED');
      assert.match(r.body.error.message, /cannot cross into the sandbox/);
    } finally { await k.stop(); }
  });
});

describe('a sandboxed plugin\'s lifecycle', () => {
  const source = (version: string) => `import { createServiceRef, definePlugin } from 'plinth/sdk';
export default definePlugin({
  setup({ http }) {
    http.get('/version', { auth: 'public' }, () => ({ version: ${JSON.stringify(version)} }));
    http.get('/slow', { auth: 'public' }, async () => { await new Promise(r => setTimeout(r, 800)); return { version: ${JSON.stringify(version)} }; });
  },
});
`;
  const makePlugin = () => {
    const dir = mkdtempSync(join(tmpdir(), 'plinth-sandboxed-reload-'));
    writeFileSync(join(dir, 'plugin.json'), JSON.stringify({ id: 'live', version: '1.0.0', kernel: '^1.0.0', main: 'index.ts' }));
    writeFileSync(join(dir, 'index.ts'), source('v1'));
    return dir;
  };

  test('an edit is served after a hot reload; a request in flight finishes on the old process; disable and enable', async () => {
    const dir = makePlugin();
    const k = await createTestKernel({ plugins: [{ path: dir, isolation: 'sandbox' }], watch: true });
    const version = async () => (await k.request('GET', '/api/live/version', { token: null })).body.version;
    try {
      assert.equal(await version(), 'v1');
      const inFlight = k.request('GET', '/api/live/slow', { token: null });
      await new Promise(r => setTimeout(r, 100));
      writeFileSync(join(dir, 'index.ts'), source('v2'));
      await waitFor(async () => (await version()) === 'v2', 'v2 served', 10_000);
      assert.deepEqual((await inFlight).body, { version: 'v1' });
      assert.equal((await k.request('PUT', '/api/plugins/live/toggle', { body: { enabled: false } })).status, 200);
      assert.equal((await k.request('GET', '/api/live/version', { token: null })).status, 404);
      assert.equal((await k.request('PUT', '/api/plugins/live/toggle', { body: { enabled: true } })).status, 200);
      assert.equal(await version(), 'v2');
    } finally { await k.stop(); }
  });

  test('where the OS sandbox is unavailable it does not start, and says what to install', async () => {
    const k = await createTestKernel({ plugins: [{ path: makePlugin(), isolation: 'sandbox' }], settings: { sandboxBwrap: '/nonexistent/bwrap' } });
    try {
      const p = (await k.request('GET', '/api/plugins/live')).body;
      assert.equal(p.status, 'error');
      assert.equal(p.error.code, 'PLINTH_ERR_SANDBOX_UNAVAILABLE');
      assert.match(p.error.message, /install bubblewrap/);
      assert.equal((await k.request('GET', '/api/live/version', { token: null })).status, 404);
      assert.equal((await k.request('GET', '/api/plugins')).status, 200);
    } finally { await k.stop(); }
  });
});
