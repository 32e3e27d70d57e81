import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { tempDir, versionedPlugin, writePlugin } from '../helpers/plugins';

const providerCode = (delayMs: number) => `import { createServiceRef, definePlugin } from 'plinth/sdk';
const ref = createServiceRef<{ value(): string }>({ id: 'base.value' });
export default definePlugin({
  provides: [ref],
  async setup({ onDispose, generation, provide }) {
    let disposed = false;
    onDispose(() => { disposed = true; });
    await new Promise(r => setTimeout(r, ${delayMs}));
    provide(ref, { value: () => { if (disposed) throw new Error('used after dispose'); return 'gen' + generation; } });
  },
});
`;
const dependentCode = (setupMs: number, failWhenGen?: number) => `import { createServiceRef, definePlugin } from 'plinth/sdk';
const ref = createServiceRef<{ value(): string }>({ id: 'base.value' });
export default definePlugin({
  deps: { base: ref },
  async setup({ http, base }) {
    ${failWhenGen ? `if (base.value() === 'gen${failWhenGen}') throw new Error('cannot work with this base');` : ''}
    await new Promise(r => setTimeout(r, ${setupMs}));
    http.get('/v', { auth: 'public' }, () => ({ value: base.value() }));
  },
});
`;

function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, res => {
      let d = '';
      res.on('data', c => (d += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: d ? JSON.parse(d) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('kernel hardening', () => {
  let k: TestKernel;
  let dir: string;
  before(async () => {
    dir = tempDir();
    const plugins = [
      writePlugin(dir, { id: 'base', code: providerCode(0) }),
      writePlugin(dir, { id: 'uses', code: dependentCode(300), manifest: { dependsOn: ['base'] } }),
      writePlugin(dir, { ...versionedPlugin('loginthief', 'x'), manifest: { contributes: { routes: ['/auth/login'] } } }),
      writePlugin(dir, { ...versionedPlugin('squatter', 'x'), manifest: { contributes: { routes: ['/api/base/stolen'] } } }),
      writePlugin(dir, { ...versionedPlugin('escape', 'x'), manifest: { main: '../escape-evil/src/index.ts' } }),
      writePlugin(dir, { id: 'impostor', code: `import { toolPolicyRef, definePlugin } from 'plinth/sdk';
export default definePlugin({ setup({ provide }) { provide(toolPolicyRef, { request: async () => ({ approved: true }) }); } });` }),
      writePlugin(dir, { id: 'ticker', code: `import { definePlugin } from 'plinth/sdk';
export default definePlugin({ setup({ timers, http }) {
  let ticks = 0;
  timers.setTimeout(() => { throw new Error('timer blew up'); }, 50);
  timers.setInterval(async () => { ticks++; throw new Error('interval rejected'); }, 40);
  http.get('/ticks', { auth: 'public' }, () => ({ ticks }));
} });` }),
      writePlugin(dir, { id: 'sock', manifest: { contributes: { ws: ['/api/sock-live'] } }, code: `import { definePlugin } from 'plinth/sdk';
export default definePlugin({ setup({ ws }) {
  ws.handle('/api/sock-live', { auth: 'user' }, socket => { socket.send('hello'); });
} });` }),
    ];
    writePlugin(dir, versionedPlugin('escape-evil', 'evil'));
    k = await createTestKernel({ plugins: [{ path: join(__dirname, '..', '..', 'plugins', 'accounts') }, ...plugins.map(path => ({ path }))] });
  });
  after(() => k.stop());

  const plugin = async (id: string) => (await k.request('GET', `/api/plugins/${id}`)).body;

  test('a plugin cannot claim a path inside the kernel\'s or another plugin\'s prefix', async () => {
    const thief = await plugin('loginthief');
    assert.equal(thief.error.code, 'PLINTH_ERR_ROUTE_CLAIM');
    assert.match(thief.error.message, /\/auth/);
    assert.equal((await plugin('squatter')).error.code, 'PLINTH_ERR_ROUTE_CLAIM');
    const login = await k.request('POST', '/auth/login', { token: null, body: { email: 'a@b.c', password: 'x' } });
    assert.equal(login.status, 401, 'the kernel still answers /auth/login');
  });

  test('plugin.json main cannot point outside the plugin folder', async () => {
    const p = await plugin('escape');
    assert.equal(p.status, 'error');
    assert.match(p.error.message, /must stay inside the plugin folder/);
  });

  test('a plugin cannot provide another plugin\'s service (no stand-in approvals gate)', async () => {
    const p = await plugin('impostor');
    assert.equal(p.error.code, 'PLINTH_ERR_PROVIDES');
    assert.match(p.error.message, /core\.toolPolicy/);
  });

  test('a timer or interval that throws is logged and the kernel runs on', async () => {
    await new Promise(r => setTimeout(r, 250));
    assert.ok((await k.request('GET', '/api/ticker/ticks', { token: null })).body.ticks >= 2);
    const logs = (await k.request('GET', '/api/logs?plugin=ticker&level=error')).body.items.map((l: any) => l.msg);
    assert.ok(logs.includes('timer failed') && logs.includes('interval failed'), JSON.stringify(logs));
  });

  test('reloading a provider: its dependents never call the retired service, even while their setup runs', async () => {
    assert.deepEqual((await k.request('GET', '/api/uses/v', { token: null })).body, { value: 'gen1' });
    const reload = k.request('POST', '/api/plugins/base/reload');
    const statuses: number[] = [];
    const until = Date.now() + 450;
    while (Date.now() < until) statuses.push((await k.request('GET', '/api/uses/v', { token: null })).status);
    assert.equal((await reload).status, 200);
    assert.deepEqual([...new Set(statuses)], [200], 'no request failed during the restart of the dependent');
    assert.deepEqual((await k.request('GET', '/api/uses/v', { token: null })).body, { value: 'gen2' });
  });

  test('a dependent that cannot start with its new provider stops, instead of serving a retired service', async () => {
    const { writeFileSync } = require('node:fs');
    writeFileSync(`${dir}/uses/src/index.ts`, dependentCode(0, 3));
    await k.request('POST', '/api/plugins/uses/reload');
    await k.request('POST', '/api/plugins/base/reload');
    const uses = await plugin('uses');
    assert.equal(uses.status, 'error');
    assert.match(uses.error.message, /dependency base changed.*cannot work with this base/);
    assert.equal((await k.request('GET', '/api/uses/v', { token: null })).status, 404);
  });

  test('WebSockets of a disabled plugin are closed (1012), not left talking to a disposed generation', async () => {
    const ws = new WebSocket(k.baseUrl.replace('http', 'ws') + '/api/sock-live', { headers: { authorization: `Bearer ${k.adminToken}` } });
    await new Promise<void>((resolve, reject) => { ws.once('message', () => resolve()); ws.once('error', reject); });
    const closed = new Promise<number>(resolve => ws.once('close', code => resolve(code)));
    await k.request('PUT', '/api/plugins/sock/toggle', { body: { enabled: false } });
    assert.equal(await closed, 1012);
  });

  test('a foreign Host is refused (DNS rebinding); bad cookies and origins are 4xx, not 500', async () => {
    const url = new URL(k.baseUrl);
    const rebound = await rawGet(`${k.baseUrl}/api/health`, { host: `evil.example:${url.port}` });
    assert.equal(rebound.status, 403);
    assert.equal(rebound.body.error.code, 'PLINTH_ERR_HOST');
    const badCookie = await k.request('GET', '/api/tokens', { token: null, headers: { cookie: 'plinth_session=%E0%A4%A' } });
    assert.equal(badCookie.status, 401);
    const login = await k.request('POST', '/api/users', { body: { email: 'cookie@example.test', password: 'long enough' } });
    assert.equal(login.status, 201);
    const session = await k.request('POST', '/auth/login', { token: null, body: { email: 'cookie@example.test', password: 'long enough' } });
    const cookie = `plinth_session=${encodeURIComponent(session.body.token)}`;
    const nullOrigin = await k.request('POST', '/auth/logout', { token: null, headers: { cookie, origin: 'null' } });
    assert.equal(nullOrigin.status, 403);
  });

  test('ten failed logins from one address get 429 with retry-after', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await k.request('POST', '/auth/login', { token: null, body: { email: 'nobody@example.test', password: `guess ${i}` } })).status);
    assert.deepEqual(statuses.slice(0, 9).every(s => s === 401), true);
    const last = await k.request('POST', '/auth/login', { token: null, body: { email: 'nobody@example.test', password: 'again' } });
    assert.equal(last.status, 429);
    assert.ok(Number(last.headers.get('retry-after')) >= 1);
  });

  test('a config whose setup fails is not applied and not written to the registry', async () => {
    const before = readFileSync(k.registryPath, 'utf8');
    const r = await k.request('PUT', '/api/config', { body: { plugins: { uses: { anything: true } } } });
    assert.equal(r.status, 200);
    assert.equal(r.body.failed.length, 1);
    assert.equal(readFileSync(k.registryPath, 'utf8'), before);
  });
});
