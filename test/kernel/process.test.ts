import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get as httpGet } from 'node:http';
import { startServer, type ServerProcess } from '../helpers/server';

const ROOT = join(__dirname, '..', '..');
const NOTES = join(__dirname, '..', 'fixtures', 'notes');

describe('the server process', () => {
  const started: ServerProcess[] = [];
  after(() => { for (const s of started) s.kill('SIGKILL'); });

  test('boots every plugin of the real registry, prints its port, and generates a 0600 admin token once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'plinth-boot-'));
    const s = await startServer({ PLINTH_DATA_DIR: dataDir, PLINTH_ADMIN_TOKEN: '' });
    started.push(s);
    assert.match(s.output(), /listening on http:\/\/127\.0\.0\.1:\d+/);
    const file = join(dataDir, 'admin-token');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const token = readFileSync(file, 'utf8').trim();
    const res = await fetch(`${s.baseUrl}/api/plugins`, { headers: { authorization: `Bearer ${token}` } });
    const { items } = await res.json() as any;
    const registry = JSON.parse(readFileSync(join(ROOT, 'plugin-registry.json'), 'utf8')).plugins;
    assert.deepEqual(items.map((p: any) => p.id).sort(), registry.map((p: any) => p.id).sort());
    for (const p of items) assert.equal(p.status, registry.find((r: any) => r.id === p.id).enabled === false ? 'disabled' : 'active', `${p.id}: ${JSON.stringify(p.error)}`);
    assert.equal((await fetch(`${s.baseUrl}/api/health`)).status, 200);
    s.kill('SIGTERM');
    assert.equal(await s.exited, 0);
    const again = await startServer({ PLINTH_DATA_DIR: dataDir, PLINTH_ADMIN_TOKEN: '' });
    started.push(again);
    assert.equal(readFileSync(file, 'utf8').trim(), token, 'the token is written once, not rotated');
    assert.equal((await fetch(`${again.baseUrl}/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    again.kill('SIGTERM');
    await again.exited;
  });

  test('SIGTERM lets a request in flight finish, refuses new connections, and exits 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'plinth-term-'));
    const registry = join(dataDir, 'registry.json');
    writeFileSync(registry, JSON.stringify({ plugins: [{ id: 'notes', path: NOTES }] }));
    const s = await startServer({ PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry });
    started.push(s);
    let inflightDone = false;
    const inflight = fetch(`${s.baseUrl}/api/notes/slow?ms=4000`).then(async r => ({ status: r.status, body: await r.json() })).finally(() => { inflightDone = true; });
    // Give the request time to reach its handler even on a loaded machine.
    await new Promise(r => setTimeout(r, 400));
    s.kill('SIGTERM');
    // Each probe is a new TCP connection (no keep-alive pool), so a refusal means the listener is closed.
    const probe = () => new Promise<boolean>(resolve => {
      const req = httpGet(`${s.baseUrl}/api/health`, { agent: false }, res => { res.resume(); resolve(false); });
      req.on('error', () => resolve(true));
      req.setTimeout(1000, () => { req.destroy(); resolve(false); });
    });
    let refusedWhileInFlight = false;
    const until = Date.now() + 3000;
    while (Date.now() < until && !refusedWhileInFlight) {
      if (await probe()) refusedWhileInFlight = !inflightDone;
      else await new Promise(r => setTimeout(r, 25));
    }
    assert.ok(refusedWhileInFlight, 'new connections are refused while the request in flight is still running');
    const done = await inflight;
    assert.equal(done.status, 200);
    assert.deepEqual(done.body, { slept: 4000 });
    assert.equal(await s.exited, 0);
    assert.match(s.output(), /kernel stopped/);
  });

  test('bad settings fail fast with a clear message', async () => {
    await assert.rejects(startServer({ PLINTH_PORT: 'eighty' }, 10_000), /PLINTH_PORT must be an integer/);
  });
});
