import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServiceRef, definePlugin } from 'plinth/sdk';

const thingsRef = createServiceRef<{ name: string }>({ id: 'base.things' });
import { createTestKernel, type TestKernel } from 'plinth/testing';

/**
 * A claim with `:param` segments takes one path shape inside another plugin's prefix (the
 * insights plugin's `/api/turns/:id/tips` inside the agents plugin's `/api/turns`), and only for a
 * plugin that depends on the prefix's holder, like any nested claim.
 */
describe('route claims with :param segments', () => {
  let k: TestKernel;
  const base = {
    manifest: { id: 'base', contributes: { routes: ['/api/things'] } },
    plugin: definePlugin({ provides: [thingsRef], setup({ http, provide }) {
      provide(thingsRef, { name: 'things' });
      http.get('/api/things/:id', { auth: 'public' }, req => ({ by: 'base', id: req.params.id }));
      http.get('/api/things/:id/parts', { auth: 'public' }, () => ({ by: 'base' }));
    } }),
  };
  const extra = (id: string, dependsOn: string[]) => ({
    manifest: { id, dependsOn, contributes: { routes: ['/api/things/:id/extra'] } },
    plugin: definePlugin({ deps: dependsOn.length ? { things: thingsRef } : {}, setup({ http }) {
      http.get('/api/things/:id/extra', { auth: 'public' }, req => ({ by: id, id: req.params.id }));
    } }),
  });
  before(async () => {
    k = await createTestKernel({ plugins: [base, extra('extra', ['base']), extra('squatter', [])] });
  });
  after(() => k.stop());

  test('the dependent plugin serves its path shape, the prefix holder all the rest; a plugin that does not depend on it is refused', async () => {
    assert.deepEqual((await k.request('GET', '/api/things/7', { token: null })).body, { by: 'base', id: '7' });
    assert.deepEqual((await k.request('GET', '/api/things/7/parts', { token: null })).body, { by: 'base' });
    assert.deepEqual((await k.request('GET', '/api/things/7/extra', { token: null })).body, { by: 'extra', id: '7' });
    const deeper = await k.request('GET', '/api/things/7/extra/more', { token: null });
    assert.equal(deeper.status, 404);
    assert.equal((await k.request('GET', '/api/things/7/nothing', { token: null })).status, 404);
    const squatter = (await k.request('GET', '/api/plugins/squatter')).body;
    assert.equal(squatter.status, 'error');
    assert.equal(squatter.error.code, 'PLINTH_ERR_ROUTE_CLAIM');
  });
});
