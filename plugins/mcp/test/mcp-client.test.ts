import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, mockServices, type TestKernel } from 'plinth/testing';
import { testGate } from './helpers';

const servers = join(__dirname, 'fixtures/servers');
const CHECKOUT = join(__dirname, '../../..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startHttp } = require(join(servers, 'sdk-server.js')) as { startHttp(port?: number): Promise<{ url: string; close(): Promise<void> }> };

describe('MCP client: configured servers join the tool registry', () => {
  let k: TestKernel;
  let web: { url: string; close(): Promise<void> };
  let hangAtStart: { state: string; attempts: number } | undefined;
  before(async () => {
    process.env.FIXTURE_AUTH = 'sesame';
    web = await startHttp();
    k = await createTestKernel({
      // Remote MCP servers go through the egress policy: the admin allowlists the fixture's address and port.
      egressAllow: [new URL(web.url).host],
      services: [mockServices.toolPolicy(testGate)],
      plugins: [{
        path: join(__dirname, '..'),
        config: {
          connectTimeoutMs: 1500,
          mcpServers: {
            // Sandboxed (the default): it may read the checkout for its fixture and the MCP SDK.
            local: { command: process.execPath, args: [join(servers, 'sdk-server.js')], risk: 'safe', toolRisk: { noop: 'blocked' }, readable: [CHECKOUT] },
            web: { url: web.url, headers: { authorization: 'Bearer sesame' } },
            nokey: { url: web.url },
            // Loopback on a port the allowlist does not name.
            internal: { url: 'http://127.0.0.1:9/mcp' },
            hang: { command: process.execPath, args: [join(servers, 'hang-server.js')], readable: [CHECKOUT] },
            crash: { command: process.execPath, args: [join(servers, 'crash-server.js')], sandbox: false },
            off: { command: 'does-not-matter', enabled: false },
          },
        },
      }],
    });
    // Measured against the hanging server's own delay (connectTimeoutMs), not the wall clock: had
    // start waited for it, its first attempt would have timed out by now.
    hangAtStart = (await status()).hang;
  });
  after(async () => {
    await k?.stop();
    await web?.close();
    delete process.env.FIXTURE_AUTH;
  });

  const status = async () => Object.fromEntries(((await k.request('GET', '/api/runtime/mcp')).body.items as any[]).map(c => [c.name, c]));

  test('setup does not wait for a hanging server; each client ends in a clear state', async () => {
    assert.deepEqual({ state: hangAtStart?.state, attempts: hangAtStart?.attempts }, { state: 'connecting', attempts: 1 }, 'kernel start must not wait for the hanging server');
    await waitFor(async () => {
      const s = await status();
      return s.local.state === 'connected' && s.web.state === 'connected' && s.hang.state === 'error' && s.crash.state === 'error' && s.nokey.state === 'error'
        && s.internal.state === 'error';
    }, 8000);
    const s = await status();
    assert.deepEqual(s.local.tools, ['mcp.local.add', 'mcp.local.fail', 'mcp.local.noop']);
    assert.equal(s.local.transport, 'stdio');
    assert.equal(s.web.transport, 'http');
    assert.match(s.hang.lastError, /timed out/);
    assert.ok(s.crash.lastError);
    assert.match(s.nokey.lastError, /401/);
    assert.match(s.internal.lastError, /refused by the egress policy: 127\.0\.0\.1 is a loopback address/);
    assert.equal(s.off.state, 'disabled');
    assert.ok(s.hang.nextRetryAt, 'a failed client is retried with backoff');
    assert.equal((await k.request('GET', '/api/plugins/mcp')).body.status, 'active');
  });

  test('remote tools run through the registry: validated, risk applied, errors clear', async () => {
    const add = await k.request('POST', '/api/plugins/mcp/execute/local.add', { body: { a: 2, b: 3 } });
    assert.equal(add.status, 200, add.text);
    assert.deepEqual(add.body.result.content, [{ type: 'text', text: '5' }]);
    assert.equal((await k.request('POST', '/api/plugins/mcp/execute/local.add', { body: { a: 'two' } })).status, 400);
    const fail = await k.request('POST', '/api/plugins/mcp/execute/local.fail', { body: {} });
    assert.equal(fail.status, 502);
    assert.match(fail.body.error.message, /it broke/);
    assert.equal((await k.request('POST', '/api/plugins/mcp/execute/local.noop', { body: {} })).status, 403, 'toolRisk blocked');
    // HTTP servers' tools are gated by default: the test gate approves only "yes".
    const tools = (await k.request('GET', '/api/tools')).body.items as any[];
    assert.equal(tools.find(t => t.name === 'mcp.web.add').risk, 'gated');
    assert.equal((await k.request('POST', '/api/plugins/mcp/execute/web.add', { body: { a: 1, b: 1 } })).status, 403);
  });

  test('disconnect removes the tools and holds; discover reconnects', async () => {
    const u = await k.createUser();
    assert.equal((await k.request('POST', '/api/runtime/mcp/clients/local/disconnect', { token: u.token })).status, 403);
    assert.equal((await k.request('POST', '/api/runtime/mcp/clients/missing/disconnect')).status, 404);
    assert.equal((await k.request('POST', '/api/runtime/mcp/clients/bad name/discover')).status, 400);
    const off = await k.request('POST', '/api/runtime/mcp/clients/local/disconnect');
    assert.equal(off.body.state, 'disconnected');
    assert.ok(!((await k.request('GET', '/api/tools')).body.items as any[]).some(t => t.name.startsWith('mcp.local.')));
    assert.equal((await k.request('POST', '/api/plugins/mcp/execute/local.add', { body: { a: 1, b: 2 } })).status, 404);
    const on = await k.request('POST', '/api/runtime/mcp/clients/local/discover');
    assert.equal(on.body.state, 'connected', on.text);
    assert.equal((await k.request('POST', '/api/plugins/mcp/execute/local.add', { body: { a: 1, b: 2 } })).body.result.content[0].text, '3');
    const hang = await k.request('POST', '/api/runtime/mcp/clients/hang/discover');
    assert.equal(hang.body.state, 'error');
    assert.equal((await k.request('POST', '/api/runtime/mcp/clients/off/discover')).status, 409);
  });
});

async function waitFor(cond: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise(r => setTimeout(r, 50));
  }
}
