import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from '../../testing';
import { tempDir } from '../helpers/plugins';
import { plinth } from './run-cli';

/** A plugin package as a third party ships it: package.json + plugin.json + code importing only plinth/sdk. */
function writePackage(dir: string, version: string, permissions: Record<string, unknown>): void {
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'plinth-plugin-acme', version, main: 'src/index.ts', peerDependencies: { plinth: '^1.0.0' } }));
  writeFileSync(join(dir, 'plugin.json'), JSON.stringify({ id: 'acme', version, kernel: '^1.0.0', main: 'src/index.ts', permissions, contributes: { tools: ['acme.version'] } }));
  writeFileSync(join(dir, 'src', 'index.ts'), `import { definePlugin } from 'plinth/sdk';
export default definePlugin({
  setup({ http, tools }) {
    http.get('/version', { auth: 'user' }, () => ({ version: '${version}' }));
    tools.register({ name: 'version', description: 'the version', inputSchema: { type: 'object' }, risk: 'safe', run: () => ({ version: '${version}' }) });
  },
});
`);
}

let k: TestKernel;
let env: Record<string, string>;
let src: string;
const registryEntry = () => JSON.parse(readFileSync(k.registryPath, 'utf8')).plugins.find((p: any) => p.id === 'acme');
before(async () => {
  k = await createTestKernel({ plugins: [{ path: join(__dirname, '..', '..', 'examples', 'hello') }] });
  env = { PLINTH_DATA_DIR: k.dataDir, PLINTH_REGISTRY: k.registryPath, PLINTH_URL: k.baseUrl, PLINTH_ADMIN_TOKEN: k.adminToken };
  src = join(tempDir('acme-pkg-'), 'acme');
});
after(() => k.stop());

test('plugins add installs into the data dir, disabled and sandboxed; enabling without a grant is refused by name; --grant serves it', async () => {
  writePackage(src, '1.0.0', { network: ['api.acme.example'] });
  const add = await plinth(['plugins', 'add', src, '--json'], { env, timeoutMs: 60_000 });
  assert.equal(add.status, 0, add.stdout + add.stderr);
  const dir = join(k.dataDir, 'plugins-installed', 'acme');
  assert.equal(add.json().dir, dir);
  assert.deepEqual(add.json().requested, { network: ['api.acme.example'] });
  assert.ok(existsSync(join(dir, 'src', 'index.ts')));
  const entry = registryEntry();
  assert.equal(entry.enabled, false);
  assert.equal(entry.isolation, 'sandbox');
  assert.equal(entry.source.kind, 'folder');
  assert.equal(entry.grants, undefined);
  const shown = await plinth(['plugins', 'add', src], { env, timeoutMs: 60_000 });
  assert.match(shown.stdout, /permissions: network: api\.acme\.example/);
  assert.match(shown.stdout, /plinth plugins enable acme --grant/);

  // Enabling without a grant: refused with the permission named, nothing changed.
  const refused = await k.request('PUT', '/api/plugins/acme/toggle', { body: { enabled: true } });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, 'PLINTH_ERR_GRANT_REQUIRED');
  assert.match(refused.body.error.message, /network: api\.acme\.example/);
  assert.equal(registryEntry().enabled, false);
  const cliRefused = await plinth(['plugins', 'enable', 'acme'], { env });
  assert.equal(cliRefused.status, 1);
  assert.match(cliRefused.stderr + cliRefused.stdout, /api\.acme\.example/);

  const u = await k.createUser();
  assert.equal((await k.request('GET', '/api/acme/version', { token: u.token })).status, 404);
  const granted = await plinth(['plugins', 'enable', 'acme', '--grant', '--json'], { env });
  assert.equal(granted.status, 0, granted.stdout + granted.stderr);
  assert.deepEqual((await k.request('GET', '/api/acme/version', { token: u.token })).body, { version: '1.0.0' });
  assert.deepEqual((await k.request('POST', '/api/plugins/acme/execute/version', { body: {} })).body.result, { version: '1.0.0' });
  const grants = registryEntry().grants;
  assert.deepEqual(grants.permissions, { network: ['api.acme.example'] });
  assert.match(grants.manifestHash, /^[0-9a-f]{64}$/);
});

test('a newer version is an upgrade, hot-reloaded; one asking for more is held back until an admin grants it', async () => {
  const u = await k.createUser();
  writePackage(src, '1.1.0', { network: ['api.acme.example'] });
  const up = await plinth(['plugins', 'add', src, '--json'], { env, timeoutMs: 60_000 });
  assert.equal(up.status, 0, up.stdout + up.stderr);
  assert.equal(up.json().previousVersion, '1.0.0');
  assert.equal(up.json().heldBack, false);
  assert.deepEqual((await k.request('GET', '/api/acme/version', { token: u.token })).body, { version: '1.1.0' });

  writePackage(src, '2.0.0', { network: ['api.acme.example'], secrets: ['ACME_KEY'] });
  const more = await plinth(['plugins', 'add', src, '--json'], { env, timeoutMs: 60_000 });
  assert.equal(more.status, 0, more.stdout + more.stderr);
  assert.equal(more.json().heldBack, true);
  assert.deepEqual(more.json().ungranted, { secrets: ['ACME_KEY'] });
  assert.deepEqual((await k.request('GET', '/api/acme/version', { token: u.token })).body, { version: '1.1.0' }, 'the granted version keeps serving');
  const info = (await k.request('GET', '/api/plugins/acme')).body;
  assert.equal(info.status, 'active');
  assert.equal(info.isolation, 'sandbox', 'it runs in the sandbox plugins add chose');
  assert.equal(info.error.code, 'PLINTH_ERR_GRANT_REQUIRED');
  assert.deepEqual(info.permissions.ungranted, { secrets: ['ACME_KEY'] });
  // A reload (the file watcher, an admin) does not get past it either.
  await k.request('POST', '/api/plugins/acme/reload');
  assert.deepEqual((await k.request('GET', '/api/acme/version', { token: u.token })).body, { version: '1.1.0' });

  // The grant route: admins only, for the manifest that was shown.
  assert.equal((await k.request('POST', '/api/plugins/acme/grant', { token: u.token, body: {} })).status, 403);
  const stale = await k.request('POST', '/api/plugins/acme/grant', { body: { manifestHash: '0'.repeat(64) } });
  assert.equal(stale.status, 409);
  assert.equal((await k.request('POST', '/api/plugins/acme/grant', { body: { manifestHash: 'nope' } })).status, 400);
  assert.deepEqual((await k.request('GET', '/api/acme/version', { token: u.token })).body, { version: '1.1.0' });
  const ok = await k.request('POST', '/api/plugins/acme/grant', { body: { manifestHash: info.permissions.manifestHash } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.version, '2.0.0');
  assert.equal(ok.body.error, null);
  assert.deepEqual((await k.request('GET', '/api/acme/version', { token: u.token })).body, { version: '2.0.0' });
  assert.deepEqual(registryEntry().grants.permissions, { network: ['api.acme.example'], secrets: ['ACME_KEY'] });
});

test('plugins remove takes an installed plugin out of service and off the disk; first-party plugins are not removed', async () => {
  const u = await k.createUser();
  const hello = await k.request('DELETE', '/api/plugins/hello');
  assert.equal(hello.status, 409);
  assert.equal(hello.body.error.code, 'PLINTH_ERR_PLUGIN_NOT_INSTALLED');
  assert.equal((await k.request('POST', '/api/plugins/hello/grant', { body: {} })).status, 409);
  assert.equal((await k.request('DELETE', '/api/plugins/acme', { token: u.token })).status, 403);

  const r = await plinth(['plugins', 'remove', 'acme'], { env });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal((await k.request('GET', '/api/acme/version', { token: u.token })).status, 404);
  assert.equal(registryEntry(), undefined);
  assert.ok(!existsSync(join(k.dataDir, 'plugins-installed', 'acme')));
  assert.equal((await k.request('DELETE', '/api/plugins/acme')).status, 404);
  const bad = await plinth(['plugins', 'add', join(src, 'nowhere-such')], { env, timeoutMs: 60_000 });
  assert.equal(bad.status, 1);
});
