import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { definePlugin, toolPolicyRef, type ToolPolicyService } from 'plinth/sdk';
import { createTestKernel, mockServices, type TestKernel } from 'plinth/testing';
import { tempDir, writePlugin } from '../helpers/plugins';

const toolsPlugin = `import { definePlugin } from 'plinth/sdk';
let sideEffects = 0;
export default definePlugin({
  setup({ tools, http }) {
    const input = { type: 'object', required: ['n'], additionalProperties: false, properties: { n: { type: 'integer' } } };
    tools.register({ name: 'double', description: 'doubles n', inputSchema: input, risk: 'safe', run: (i: any) => i.n * 2 });
    tools.register({ name: 'launch', description: 'has side effects', inputSchema: input, risk: 'gated', run: (i: any) => { sideEffects += i.n; return { sideEffects }; } });
    tools.register({ name: 'wipe', description: 'never runs', inputSchema: { type: 'object' }, risk: 'blocked', run: () => { sideEffects = -1; return 'wiped'; } });
    http.get('/effects', { auth: 'public' }, () => ({ sideEffects }));
  },
});
`;

describe('the tool registry', () => {
  const dir = tempDir();
  const path = writePlugin(dir, { id: 'toolbox', code: toolsPlugin });

  describe('without an approvals plugin', () => {
    let k: TestKernel;
    before(async () => { k = await createTestKernel({ plugins: [{ path }] }); });
    after(() => k.stop());

    test('GET /api/tools lists namespaced tools with their risk and schema', async () => {
      const { items } = (await k.request('GET', '/api/tools')).body;
      assert.deepEqual(items.map((t: any) => [t.name, t.risk]), [['toolbox.double', 'safe'], ['toolbox.launch', 'gated'], ['toolbox.wipe', 'blocked']]);
      assert.deepEqual(items[0].inputSchema.required, ['n']);
    });

    test('input is validated before the tool runs', async () => {
      const ok = await k.request('POST', '/api/plugins/toolbox/execute/double', { body: { n: 21 } });
      assert.deepEqual(ok.body, { tool: 'toolbox.double', result: 42 });
      const bad = await k.request('POST', '/api/plugins/toolbox/execute/double', { body: { n: 'x' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'PLINTH_ERR_TOOL_INPUT');
      assert.match(bad.body.error.message, /input\/n must be integer/);
      assert.equal((await k.request('POST', '/api/plugins/toolbox/execute/nope', { body: {} })).status, 404);
    });

    test('a gated tool fails closed with no approvals service, a blocked one never runs', async () => {
      const gated = await k.request('POST', '/api/plugins/toolbox/execute/launch', { body: { n: 1 } });
      assert.equal(gated.status, 403);
      assert.equal(gated.body.error.code, 'PLINTH_ERR_TOOL_GATED');
      const blocked = await k.request('POST', '/api/plugins/toolbox/execute/wipe', { body: {} });
      assert.equal(blocked.status, 403);
      assert.equal(blocked.body.error.code, 'PLINTH_ERR_TOOL_BLOCKED');
      assert.deepEqual((await k.request('GET', '/api/toolbox/effects', { token: null })).body, { sideEffects: 0 });
    });
  });

  describe('with an approvals service (a mock through the test kernel)', () => {
    let k: TestKernel;
    const asked: Array<{ tool: string; input: unknown; user: string }> = [];
    const gate: ToolPolicyService = {
      async request({ tool, input, ctx }) {
        asked.push({ tool, input, user: ctx.user.id });
        return (input as any).n > 5 ? { approved: false, reason: 'too many', requestId: 'apr_1' } : { approved: true };
      },
    };
    before(async () => { k = await createTestKernel({ plugins: [{ path }], services: [mockServices.toolPolicy(gate)] }); });
    after(() => k.stop());

    test('approved calls run once, denied ones come back as 403 with the reason', async () => {
      const u = await k.createUser();
      const ok = await k.request('POST', '/api/plugins/toolbox/execute/launch', { token: u.token, body: { n: 2 } });
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.body.result, { sideEffects: 2 });
      const denied = await k.request('POST', '/api/plugins/toolbox/execute/launch', { token: u.token, body: { n: 9 } });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.error.code, 'PLINTH_ERR_TOOL_DENIED');
      assert.match(denied.body.error.message, /too many/);
      assert.deepEqual((await k.request('GET', '/api/toolbox/effects', { token: null })).body, { sideEffects: 2 });
      assert.deepEqual(asked.map(a => [a.tool, a.user]), [['toolbox.launch', u.user.id], ['toolbox.launch', u.user.id]]);
    });
  });

  describe('the tool policy is a kernel service that one plugin implements', () => {
    let k: TestKernel;
    const policy = (id: string, declared: boolean) => ({
      manifest: { id, ...(declared ? { contributes: { services: [toolPolicyRef.id] } } : {}) },
      plugin: definePlugin({
        provides: [toolPolicyRef],
        setup: ({ provide }) => provide(toolPolicyRef, { request: async () => ({ approved: false, reason: `${id} says no` }) } satisfies ToolPolicyService),
      }),
    });
    before(async () => {
      k = await createTestKernel({ plugins: [{ path }, policy('policy-a', true), policy('policy-b', true), policy('policy-c', false)] });
    });
    after(() => k.stop());

    test('the plugin that names core.toolPolicy in its manifest decides; a second one, or one that does not name it, is refused', async () => {
      const denied = await k.request('POST', '/api/plugins/toolbox/execute/launch', { body: { n: 1 } });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.error.code, 'PLINTH_ERR_TOOL_DENIED');
      assert.match(denied.body.error.message, /policy-a says no/);
      const second = (await k.request('GET', '/api/plugins/policy-b')).body;
      assert.equal(second.status, 'error');
      assert.equal(second.error.code, 'PLINTH_ERR_PROVIDES');
      assert.match(second.error.message, /already provided by policy-a/);
      const undeclared = (await k.request('GET', '/api/plugins/policy-c')).body;
      assert.equal(undeclared.error.code, 'PLINTH_ERR_PROVIDES');
      assert.match(undeclared.error.message, /contributes\.services/);
      assert.ok(k.service(toolPolicyRef), "k.service answers the live tool policy");
    });
  });
});
