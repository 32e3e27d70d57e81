import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { createTestKernel, mockServices, type TestKernel } from 'plinth/testing';
import { connectMcp, testGate } from './helpers';

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('MCP server at /mcp', () => {
  let k: TestKernel;
  before(async () => {
    k = await createTestKernel({
      plugins: [{ path: join(__dirname, '..') }, { path: join(__dirname, 'fixtures/toolbox') }],
      services: [mockServices.toolPolicy(testGate)],
    });
  });
  after(() => k.stop());

  test('refuses a missing or bad token with an MCP-shaped 401, and a foreign Host or Origin with 403', async () => {
    const none = await k.request('POST', '/mcp', { token: null, headers: HEADERS, body: INIT });
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal(none.body.error.code, -32001);
    assert.equal((await k.request('POST', '/mcp', { token: 'plt_wrong', headers: HEADERS, body: INIT })).status, 401);
    assert.equal((await k.request('GET', '/mcp', { token: null })).status, 401);
    // fetch forbids setting Host; Origin is enough to show the check (Host is covered by the conformance suite).
    const evil = await k.request('POST', '/mcp', { headers: { ...HEADERS, origin: 'http://evil.example' }, body: INIT });
    assert.equal(evil.status, 403);
    assert.equal((await k.request('POST', '/mcp', { headers: HEADERS, raw: '{not json' })).status, 400);
    assert.equal((await k.request('POST', '/mcp', { headers: HEADERS, body: { jsonrpc: '2.0', id: 2, method: 'tools/list' } })).status, 400);
  });

  test('a user lists the registry tools it may use and calls them as itself', async () => {
    const u = await k.createUser();
    const { client } = await connectMcp(k.baseUrl, u.token);
    try {
      assert.equal(client.getServerVersion()?.name, 'plinth');
      const names = (await client.listTools()).tools.map(t => t.name);
      assert.ok(names.includes('toolbox.echo') && names.includes('toolbox.danger'));
      assert.ok(!names.includes('toolbox.secret'), 'a tool blocked for this user is not listed');
      const r: any = await client.callTool({ name: 'toolbox.echo', arguments: { text: 'hi' } });
      assert.deepEqual(r.structuredContent, { text: 'hi', user: u.user.id, via: 'mcp' });
      assert.equal(r.isError, undefined);
      const bad: any = await client.callTool({ name: 'toolbox.echo', arguments: { text: '' } });
      assert.equal(bad.isError, true);
      assert.match(bad.content[0].text, /PLINTH_ERR_TOOL_INPUT/);
      await assert.rejects(client.callTool({ name: 'nope.nothing', arguments: {} }), /Unknown tool/);
    } finally {
      await client.close();
    }
  });

  test('a gated tool runs once approved; a denial is a tool error, not a protocol error', async () => {
    const u = await k.createUser();
    const { client } = await connectMcp(k.baseUrl, u.token);
    try {
      const ok: any = await client.callTool({ name: 'toolbox.danger', arguments: { text: 'yes' } });
      assert.deepEqual(ok.content, [{ type: 'text', text: 'did yes' }]);
      const denied: any = await client.callTool({ name: 'toolbox.danger', arguments: { text: 'no' } });
      assert.equal(denied.isError, true);
      assert.match(denied.content[0].text, /PLINTH_ERR_TOOL_DENIED.*reviewer said no/);
      const admin = await connectMcp(k.baseUrl, k.adminToken);
      assert.ok((await admin.client.listTools()).tools.some(t => t.name === 'toolbox.secret'));
      await admin.client.close();
    } finally {
      await client.close();
    }
  });

  test('tools/list_changed reaches connected clients when a plugin reloads with other tools', async () => {
    const { client } = await connectMcp(k.baseUrl, k.adminToken);
    try {
      let changed = 0;
      client.setNotificationHandler(ToolListChangedNotificationSchema, async () => { changed++; });
      // The standalone GET stream carries server-initiated notifications; give it a moment to open.
      await new Promise(r => setTimeout(r, 100));
      const toggled = await k.request('PUT', '/api/plugins/toolbox/toggle', { body: { enabled: false } });
      assert.equal(toggled.status, 200, toggled.text);
      await waitFor(() => changed > 0);
      assert.ok(!(await client.listTools()).tools.some(t => t.name.startsWith('toolbox.')));
      await k.request('PUT', '/api/plugins/toolbox/toggle', { body: { enabled: true } });
      await waitFor(() => changed > 1);
      assert.ok((await client.listTools()).tools.some(t => t.name === 'toolbox.echo'));
    } finally {
      await client.close();
    }
  });

  test('a session belongs to its user: another token gets 404, DELETE ends it', async () => {
    const a = await k.createUser();
    const b = await k.createUser();
    const { client, transport } = await connectMcp(k.baseUrl, a.token);
    const sessionId = transport.sessionId!;
    assert.ok(sessionId);
    const list = { jsonrpc: '2.0', id: 5, method: 'tools/list' };
    const stolen = await k.request('POST', '/mcp', { token: b.token, headers: { ...HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' }, body: list });
    assert.equal(stolen.status, 404);
    const mine = await k.request('POST', '/mcp', { token: a.token, headers: { ...HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' }, body: list });
    assert.equal(mine.status, 200);
    await transport.terminateSession();
    const gone = await k.request('POST', '/mcp', { token: a.token, headers: { ...HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' }, body: list });
    assert.equal(gone.status, 404);
    await client.close();
  });
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise(r => setTimeout(r, 20));
  }
}

describe('MCP server session limits', () => {
  let k: TestKernel;
  before(async () => {
    k = await createTestKernel({
      plugins: [{ path: join(__dirname, '..'), config: { maxSessions: 2, maxSessionsPerUser: 1 } }, { path: join(__dirname, 'fixtures/toolbox') }],
      services: [mockServices.toolPolicy(testGate)],
    });
  });
  after(() => k.stop());

  const session = (token: string, sid: string) => ({ token, headers: { ...HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' } });
  const init = async (token: string) => {
    const r = await k.request('POST', '/mcp', { token, headers: HEADERS, body: INIT });
    return { status: r.status, body: r.body, sid: r.headers.get('mcp-session-id') ?? '' };
  };
  const list = (token: string, sid: string) => k.request('POST', '/mcp', { ...session(token, sid), body: { jsonrpc: '2.0', id: 9, method: 'tools/list' } });
  const end = (token: string, sid: string) => k.request('DELETE', '/mcp', session(token, sid));
  /** An open GET event stream makes a session active until the returned function closes it. */
  const openStream = async (token: string, sid: string) => {
    const ctl = new AbortController();
    const res = await fetch(`${k.baseUrl}/mcp`, { signal: ctl.signal, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' } });
    assert.equal(res.status, 200);
    return () => ctl.abort();
  };

  test('one user over its own cap gets a clear 429; another user still gets in', async () => {
    const u = await k.createUser();
    const first = await init(u.token);
    assert.equal(first.status, 200);
    const second = await init(u.token);
    assert.equal(second.status, 429);
    assert.match(second.body.error.message, /too many MCP sessions for this user \(1\)/);
    assert.equal((await list(u.token, first.sid)).status, 200, 'the refusal closed nothing');
    const v = await k.createUser();
    const other = await init(v.token);
    assert.equal(other.status, 200);
    assert.equal((await end(u.token, first.sid)).status, 200);
    assert.equal((await init(u.token)).status, 200, 'after DELETE the user may open one again');
  });

  test('at maxSessions the oldest idle session makes room, never an active one; all active answers 503', async () => {
    const [a, b, c, e, f] = await Promise.all([1, 2, 3, 4, 5].map(() => k.createUser()));
    // A is the oldest session but active (its event stream is open); B is idle.
    const sa = (await init(a.token)).sid;
    const closeA = await openStream(a.token, sa);
    const sb = (await init(b.token)).sid;
    // C connects with the official SDK client: B's session is closed for it, A's is not.
    const { client, transport } = await connectMcp(k.baseUrl, c.token);
    assert.ok((await client.listTools()).tools.length > 0);
    assert.equal((await list(b.token, sb)).status, 404, 'the idle session was evicted');
    assert.equal((await list(a.token, sa)).status, 200, 'the active session was kept');
    await transport.terminateSession();
    await client.close();
    // Two active sessions: a new one is refused, and nothing is closed for it.
    const se = (await init(e.token)).sid;
    const closeE = await openStream(e.token, se);
    const full = await init(f.token);
    assert.equal(full.status, 503, JSON.stringify(full.body));
    assert.match(full.body.error.message, /too many active MCP sessions/);
    assert.equal((await list(a.token, sa)).status, 200);
    assert.equal((await list(e.token, se)).status, 200);
    // Once A's stream ends, A is idle and makes room.
    closeA();
    let admitted = await init(f.token);
    for (let i = 0; admitted.status !== 200 && i < 50; i++) { await new Promise(r => setTimeout(r, 20)); admitted = await init(f.token); }
    assert.equal(admitted.status, 200);
    assert.equal((await list(a.token, sa)).status, 404);
    assert.equal((await list(e.token, se)).status, 200);
    closeE();
  });
});
