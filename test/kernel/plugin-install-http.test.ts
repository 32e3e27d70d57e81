/**
 * POST /api/plugins: `plinth plugins add` over HTTP (core/plugins/package-install.ts, the code the
 * CLI runs). A tarball upload is installed disabled; enabling it without the grant is refused by
 * the permission's name; the grant serves it; an upgrade is hot-reloaded, one asking for more is
 * held back; a bad package, a non-admin and a spec that is not a registry name change nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from '../../testing';
import { tempDir } from '../helpers/plugins';

/** A third party's plugin package as `npm pack` would give it (package/ at the root). */
function tarball(version: string, permissions: Record<string, unknown>, manifest: Record<string, unknown> = {}, packageJson?: string): Buffer {
  const root = tempDir('install-http-');
  const dir = join(root, 'package');
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), packageJson ?? JSON.stringify({ name: 'plinth-plugin-upload', version, main: 'src/index.ts' }));
  writeFileSync(join(dir, 'plugin.json'), JSON.stringify({ id: 'upload', version, kernel: '^1.0.0', main: 'src/index.ts', permissions, ...manifest }));
  writeFileSync(join(dir, 'src', 'index.ts'), `import { definePlugin } from 'plinth/sdk';
export default definePlugin({ setup({ http }) { http.get('/version', { auth: 'user' }, () => ({ version: '${version}' })); } });
`);
  execFileSync('tar', ['-czf', join(root, 'p.tgz'), '-C', root, 'package']);
  return readFileSync(join(root, 'p.tgz'));
}

let k: TestKernel;
let user: { token: string };
const upload = (bytes: Buffer | string, token?: string, type = 'application/gzip') =>
  k.request('POST', '/api/plugins', { raw: bytes, headers: { 'content-type': type }, ...(token ? { token } : {}) });
const registered = () => JSON.parse(readFileSync(k.registryPath, 'utf8')).plugins.find((p: any) => p.id === 'upload');
const installedDir = () => join(k.dataDir, 'plugins-installed', 'upload');
const version = async () => (await k.request('GET', '/api/upload/version', { token: user.token }));

before(async () => {
  k = await createTestKernel({ plugins: [] });
  user = await k.createUser();
});
after(() => k.stop());

test('refused before anything is installed: a non-admin, a bad tarball, a bad manifest, a spec that is not a registry name, another content type', async () => {
  const good = tarball('1.0.0', { network: ['api.upload.example'] });
  const asUser = await upload(good, user.token);
  assert.equal(asUser.status, 403);
  const garbage = await upload(Buffer.from('not a tarball at all'));
  assert.equal(garbage.status, 400);
  assert.equal(garbage.body.error.code, 'PLINTH_ERR_PLUGIN_INSTALL');
  assert.match(garbage.body.error.message, /^unpack:/);
  const badManifest = await upload(tarball('1.0.0', {}, { kernel: 'not a range', id: 'Bad Id' }));
  assert.equal(badManifest.status, 400);
  assert.match(badManifest.body.error.code, /PLINTH_ERR_MANIFEST/);
  const badPackageJson = await upload(tarball('1.0.0', {}, {}, '{ "name": '));
  assert.equal(badPackageJson.status, 400, badPackageJson.text);
  assert.match(badPackageJson.body.error.message, /^unpack: the package's package.json is not JSON/);
  for (const spec of ['../../etc', '/tmp/x', 'git+https://example.com/x.git', 'file:../x', 'https://example.com/x.tgz']) {
    const r = await k.request('POST', '/api/plugins', { body: { package: spec } });
    assert.equal(r.status, 400, spec);
    assert.match(r.body.error.message, /not a package name from the registry/);
  }
  assert.equal((await k.request('POST', '/api/plugins', { body: { package: 'x', path: '/tmp' } })).status, 400);
  assert.equal((await k.request('POST', '/api/plugins', { body: {} })).status, 400);
  assert.equal((await upload(good, undefined, 'text/plain')).status, 415);
  assert.equal((await k.request('POST', '/api/plugins', { raw: '' , headers: { 'content-type': 'application/gzip' } })).status, 400);

  assert.equal(registered(), undefined);
  assert.ok(!existsSync(installedDir()));
  assert.deepEqual(readdirSync(join(k.dataDir, 'plugins-installed')), [], 'no staging folder is left behind');
  assert.equal((await k.request('GET', '/api/plugins/upload')).status, 404);
});

test('an upload is installed disabled and sandboxed; enabling without the grant names the permission; the grant serves it', async () => {
  const r = await upload(tarball('1.0.0', { network: ['api.upload.example'] }));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.deepEqual(r.body.installed.requested, { network: ['api.upload.example'] });
  assert.deepEqual(r.body.installed.ungranted, { network: ['api.upload.example'] });
  assert.equal(r.body.plugin.status, 'disabled');
  assert.equal(r.body.plugin.isolation, 'sandbox');
  assert.match(r.body.plugin.source.spec, /^upload sha256:[0-9a-f]{64}$/);
  assert.equal(registered().enabled, false);
  assert.ok(existsSync(join(installedDir(), 'plugin.json')));

  const refused = await k.request('PUT', '/api/plugins/upload/toggle', { body: { enabled: true } });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, 'PLINTH_ERR_GRANT_REQUIRED');
  assert.match(refused.body.error.message, /network: api\.upload\.example/);
  assert.equal((await version()).status, 404);

  const info = (await k.request('GET', '/api/plugins/upload')).body;
  const granted = await k.request('POST', '/api/plugins/upload/grant', { body: { manifestHash: info.permissions.manifestHash } });
  assert.equal(granted.status, 200, JSON.stringify(granted.body));
  assert.equal(granted.body.status, 'active');
  assert.deepEqual((await version()).body, { version: '1.0.0' });
});

test('an upgrade is hot-reloaded; one asking for more is held back while the granted version serves; a bad upload changes nothing', async () => {
  const up = await upload(tarball('1.1.0', { network: ['api.upload.example'] }));
  assert.equal(up.status, 200, JSON.stringify(up.body));
  assert.equal(up.body.installed.previousVersion, '1.0.0');
  assert.equal(up.body.installed.heldBack, false);
  assert.deepEqual((await version()).body, { version: '1.1.0' });

  const more = await upload(tarball('2.0.0', { network: ['api.upload.example'], secrets: ['UPLOAD_KEY'] }));
  assert.equal(more.status, 200);
  assert.equal(more.body.installed.heldBack, true);
  assert.deepEqual(more.body.installed.ungranted, { secrets: ['UPLOAD_KEY'] });
  assert.equal(more.body.plugin.error.code, 'PLINTH_ERR_GRANT_REQUIRED');
  assert.deepEqual((await version()).body, { version: '1.1.0' }, 'the granted version keeps serving');

  const before = readFileSync(join(installedDir(), 'plugin.json'), 'utf8');
  assert.equal((await upload(Buffer.from([0x1f, 0x8b, 0, 1, 2, 3]))).status, 400);
  assert.equal((await upload(tarball('3.0.0', {}, { main: 42 }))).status, 400);
  assert.equal(readFileSync(join(installedDir(), 'plugin.json'), 'utf8'), before);
  assert.deepEqual((await version()).body, { version: '1.1.0' });

  const removed = await k.request('DELETE', '/api/plugins/upload');
  assert.equal(removed.status, 200);
  assert.equal((await version()).status, 404);
  assert.equal(registered(), undefined);
});
