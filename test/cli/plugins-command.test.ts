import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type ServerProcess } from '../helpers/server';
import { closedPortUrl, plinth } from './run-cli';

const ROOT = join(__dirname, '..', '..');
const HELLO = join(ROOT, 'examples', 'hello');
const NOTES = join(ROOT, 'test', 'fixtures', 'notes');

function tempRegistry(plugins: unknown[]): { dataDir: string; registry: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-cli-'));
  const registry = join(dataDir, 'plugin-registry.json');
  writeFileSync(registry, JSON.stringify({ plugins }, null, 2));
  return { dataDir, registry };
}

describe('plinth plugins against a running server', () => {
  let s: ServerProcess;
  const { dataDir, registry } = tempRegistry([{ id: 'hello', path: HELLO }, { id: 'notes', path: NOTES }]);
  after(() => s?.kill('SIGKILL'));

  test('list, disable, enable and reload go through the API, and the registry file follows', async () => {
    s = await startServer({ PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry });
    const env = { PLINTH_URL: s.baseUrl, PLINTH_ADMIN_TOKEN: s.adminToken, PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry };

    const list = await plinth(['plugins', 'list', '--json'], { env });
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.json().server, s.baseUrl);
    assert.deepEqual(list.json().plugins.map((p: any) => [p.id, p.status]), [['hello', 'active'], ['notes', 'active']]);

    const human = await plinth(['plugins', 'list'], { env });
    assert.match(human.stdout, /^ID\s+STATUS\s+VERSION\s+PATH$/m);
    assert.match(human.stdout, /^hello\s+active\s+1\.0\.0\s/m);
    assert.doesNotMatch(human.stdout, /\x1b\[/, 'no colour when stdout is not a terminal');

    const off = await plinth(['plugins', 'disable', 'hello'], { env });
    assert.equal(off.status, 0, off.stderr);
    assert.match(off.stdout, /hello disabled on http/);
    assert.equal((await fetch(`${s.baseUrl}/api/hello/greet?name=a`, { headers: { authorization: `Bearer ${s.adminToken}` } })).status, 404);
    assert.equal(JSON.parse(readFileSync(registry, 'utf8')).plugins[0].enabled, false, 'the server wrote the registry back');

    const on = await plinth(['plugins', 'enable', 'hello', '--json'], { env });
    assert.equal(on.status, 0);
    assert.equal(on.json().plugin.status, 'active');
    assert.equal(on.json().restartRequired, false);

    const reload = await plinth(['plugins', 'reload', 'notes', '--json'], { env });
    assert.equal(reload.status, 0, reload.stdout);
    assert.equal(reload.json().plugin.generation, 2);
  });

  test('a wrong token or an unknown plugin fails with exit 1 and says why; bad usage exits 2', async () => {
    const env = { PLINTH_URL: s.baseUrl, PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry };
    const denied = await plinth(['plugins', 'reload', 'hello', '--token', 'plt_wrong'], { env });
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /HTTP 401/);
    assert.match(denied.stderr, /PLINTH_ADMIN_TOKEN/);
    const unknown = await plinth(['plugins', 'disable', 'nope', '--json'], { env: { ...env, PLINTH_ADMIN_TOKEN: s.adminToken } });
    assert.equal(unknown.status, 1);
    assert.match(unknown.json().error.message, /plugin nope not found/);
    for (const args of [['plugins'], ['plugins', 'enable'], ['plugins', 'list', 'x'], ['plugins', 'list', '--bogus'], ['nonsense']]) {
      const r = await plinth(args, { env });
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, /usage: plinth/);
    }
  });
});

describe('plinth plugins with no server running', () => {
  test('enable/disable edit the registry atomically and say a restart is needed; reload fails', async () => {
    const { dataDir, registry } = tempRegistry([{ id: 'hello', path: HELLO, enabled: true, config: { greeting: 'Yo' } }]);
    const env = { PLINTH_URL: await closedPortUrl(), PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry };
    const off = await plinth(['plugins', 'disable', 'hello', '--json'], { env });
    assert.equal(off.status, 0, off.stdout + off.stderr);
    assert.deepEqual(off.json(), { ok: true, plugin: { id: 'hello', enabled: false }, restartRequired: true });
    assert.deepEqual(JSON.parse(readFileSync(registry, 'utf8')).plugins, [{ id: 'hello', path: HELLO, enabled: false, config: { greeting: 'Yo' } }]);
    const human = await plinth(['plugins', 'enable', 'hello'], { env });
    assert.match(human.stdout, /next `plinth start`/);
    assert.equal(JSON.parse(readFileSync(registry, 'utf8')).plugins[0].enabled, true);

    const before = readFileSync(registry, 'utf8');
    const unknown = await plinth(['plugins', 'enable', 'ghost'], { env });
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /"ghost" is not in/);
    assert.equal(readFileSync(registry, 'utf8'), before, 'nothing written');

    const reload = await plinth(['plugins', 'reload', 'hello'], { env });
    assert.equal(reload.status, 1);
    assert.match(reload.stderr, /no server answers/);

    const list = await plinth(['plugins', 'list', '--json'], { env });
    assert.equal(list.json().server, null);
    assert.deepEqual(list.json().plugins.map((p: any) => p.status), ['stopped']);

    writeFileSync(registry, '{ "plugins": [ { "id": "Bad!" } ] }');
    const broken = await plinth(['plugins', 'disable', 'hello'], { env });
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, /plinth doctor/);
  });

  test('colour only when asked for and NO_COLOR is unset', async () => {
    const { dataDir, registry } = tempRegistry([{ id: 'hello', path: HELLO }]);
    const env = { PLINTH_URL: await closedPortUrl(), PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry };
    assert.match((await plinth(['plugins', 'disable', 'hello'], { env: { ...env, FORCE_COLOR: '1' } })).stdout, /\x1b\[32m✓/);
    assert.doesNotMatch((await plinth(['plugins', 'enable', 'hello'], { env: { ...env, FORCE_COLOR: '1', NO_COLOR: '1' } })).stdout, /\x1b\[/);
  });
});
