import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { tempDir, versionedPlugin, writePlugin } from '../helpers/plugins';

const ok = (id: string) => versionedPlugin(id, `${id}-1`);
/** A plugin whose deps name a `ghost.thing` service, required or `asOptional()`. */
const usesGhost = (optional: string) => `import { createServiceRef, definePlugin } from 'plinth/sdk';
const ghost = createServiceRef<{ boo(): string }>({ id: 'ghost.thing' })${optional ? '.' + optional : ''};
export default definePlugin({ deps: { ghost }, setup({ http, ghost }) { http.get('/ghost', { auth: 'public' }, () => ({ present: !!ghost })); } });
`;

describe('plugin lifecycle: one broken plugin never stops the rest', () => {
  let k: TestKernel;
  let dir: string;
  before(async () => {
    dir = tempDir();
    const plugins = [
      writePlugin(dir, ok('good')),
      writePlugin(dir, { ...ok('badmanifest'), manifest: { version: 'one', permissions: { pty: 'yes' } } }),
      writePlugin(dir, { ...ok('oldkernel'), manifest: { kernel: '^0.3.0' } }),
      writePlugin(dir, { ...ok('cyclea'), manifest: { dependsOn: ['cycleb'] } }),
      writePlugin(dir, { ...ok('cycleb'), manifest: { dependsOn: ['cyclea'] } }),
      writePlugin(dir, { ...ok('needsmissing'), manifest: { dependsOn: ['ghost'] } }),
      writePlugin(dir, { ...ok('afterbroken'), manifest: { dependsOn: ['throws'] } }),
      writePlugin(dir, { id: 'throws', code: `import { definePlugin } from 'plinth/sdk';
export default definePlugin({ setup({ http }) { http.get('/x', { auth: 'public' }, () => 1); throw new Error('database password rejected'); } });` }),
      writePlugin(dir, { id: 'noauth', code: `import { definePlugin } from 'plinth/sdk';
export default definePlugin({ setup({ http }) { (http as any).get('/open', {}, () => 'open to all'); } });` }),
      writePlugin(dir, { id: 'notaplugin', code: `export default { setup() {} };` }),
      writePlugin(dir, { ...ok('claimer'), manifest: { contributes: { routes: ['/api/plugins'] } } }),
      writePlugin(dir, { ...ok('configured'), manifest: { configSchema: { type: 'object', properties: { size: { type: 'integer', minimum: 1 } } } } }),
      writePlugin(dir, { id: 'optional', manifest: { optionalDependsOn: ['ghost'] }, code: usesGhost('asOptional()') }),
      writePlugin(dir, { id: 'undeclared', code: usesGhost('asOptional()') }),
      writePlugin(dir, { id: 'notrequired', manifest: { optionalDependsOn: ['ghost'] }, code: usesGhost('') }),
      writePlugin(dir, { ...ok('unused'), manifest: { optionalDependsOn: ['good'] } }),
    ];
    writePlugin(dir, ok('unlisted'));
    k = await createTestKernel({
      plugins: plugins.map(p => ({ path: p, config: p.endsWith('configured') ? { size: 0 } : {} })),
    });
  });
  after(() => k.stop());

  const plugin = async (id: string) => (await k.request('GET', `/api/plugins/${id}`)).body;

  test('healthy plugins run beside broken ones', async () => {
    assert.equal((await plugin('good')).status, 'active');
    assert.equal((await plugin('optional')).status, 'active', 'a missing optional dependency is fine');
    assert.deepEqual((await k.request('GET', '/api/good/version', { token: null })).body, { version: 'good-1' });
  });

  test('plugin.json and the deps in code must name the same dependencies, each the same way', async () => {
    assert.deepEqual((await k.request('GET', '/api/optional/ghost', { token: null })).body, { present: false });
    const undeclared = await plugin('undeclared');
    assert.equal(undeclared.status, 'error');
    assert.equal(undeclared.error.code, 'PLINTH_ERR_DEPENDS_MISMATCH');
    assert.match(undeclared.error.message, /deps\.ghost uses "ghost\.thing" \(optional\), so plugin\.json\/optionalDependsOn must list "ghost"/);
    const notRequired = await plugin('notrequired');
    assert.equal(notRequired.error.code, 'PLINTH_ERR_DEPENDS_MISMATCH');
    assert.match(notRequired.error.message, /plugin\.json\/dependsOn must list "ghost"; it is listed in optionalDependsOn, but deps\.ghost is required/);
    const unused = await plugin('unused');
    assert.equal(unused.error.code, 'PLINTH_ERR_DEPENDS_MISMATCH');
    assert.match(unused.error.message, /optionalDependsOn lists "good", but no ref in deps uses a "good\.\*" service/);
    assert.equal((await k.request('GET', '/api/undeclared/ghost', { token: null })).status, 404);
  });

  test('a plugin folder that the registry does not list never loads', async () => {
    assert.equal((await k.request('GET', '/api/plugins/unlisted')).status, 404);
    assert.equal((await k.request('GET', '/api/unlisted/version', { token: null })).status, 404);
    const list = (await k.request('GET', '/api/plugins')).body.items.map((p: any) => p.id);
    assert.ok(!list.includes('unlisted'));
  });

  test('a bad manifest names the field and why', async () => {
    const p = await plugin('badmanifest');
    assert.equal(p.status, 'error');
    assert.equal(p.error.code, 'PLINTH_ERR_MANIFEST');
    assert.match(p.error.message, /plugin\.json\/permissions\/pty must be boolean/);
  });

  test('a kernel range that this kernel does not satisfy is refused', async () => {
    const p = await plugin('oldkernel');
    assert.equal(p.error.code, 'PLINTH_ERR_KERNEL_RANGE');
    assert.match(p.error.message, /needs kernel \^0\.3\.0/);
  });

  test('a dependency cycle names the plugins in it', async () => {
    for (const id of ['cyclea', 'cycleb']) {
      const p = await plugin(id);
      assert.equal(p.status, 'error');
      assert.equal(p.error.code, 'PLINTH_ERR_DEPENDENCY_CYCLE');
      assert.match(p.error.message, /cyclea -> cycleb -> cyclea|cycleb -> cyclea -> cycleb/);
    }
  });

  test('a missing dependency is named', async () => {
    const p = await plugin('needsmissing');
    assert.equal(p.status, 'error');
    assert.match(p.error.message, /"ghost"/);
  });

  test('a setup that throws marks the plugin error, leaves no routes behind, and its dependents wait', async () => {
    const p = await plugin('throws');
    assert.equal(p.status, 'error');
    assert.match(p.error.message, /database password rejected/);
    assert.equal((await k.request('GET', '/api/throws/x', { token: null })).status, 404);
    const dep = await plugin('afterbroken');
    assert.equal(dep.status, 'error');
    assert.match(dep.error.message, /"throws"/);
  });

  test('a route without auth is refused at registration', async () => {
    const p = await plugin('noauth');
    assert.equal(p.status, 'error');
    assert.equal(p.error.code, 'PLINTH_ERR_ROUTE_AUTH');
    assert.equal((await k.request('GET', '/api/noauth/open', { token: null })).status, 404);
  });

  test('an entry that does not export definePlugin is refused', async () => {
    assert.equal((await plugin('notaplugin')).error.code, 'PLINTH_ERR_PLUGIN_ENTRY');
  });

  test('claiming a path someone else holds is an error at load', async () => {
    const p = await plugin('claimer');
    assert.equal(p.error.code, 'PLINTH_ERR_ROUTE_CLAIM');
    assert.match(p.error.message, /\/api\/plugins is already claimed by kernel/);
  });

  test('config that fails the config schema is refused with the field', async () => {
    const p = await plugin('configured');
    assert.equal(p.error.code, 'PLINTH_ERR_CONFIG');
    assert.match(p.error.message, /config\/size must be >= 1/);
  });
});
