import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { NGINX, startKernelCluster, until, type KernelCluster } from '../helpers/cluster';

const ROOT = join(__dirname, '..', '..');
const PG = process.env.PLINTH_TEST_POSTGRES_URL;
const skip = !PG ? 'PLINTH_TEST_POSTGRES_URL not set' : !NGINX ? 'nginx is not installed (.ci/run installs it)' : false;

interface Hop { landed: string; servedBy: string; status: number; method: string }

/**
 * The official MCP SDK client, unchanged, through nginx (round-robin, no stickiness) in front of
 * three kernels: each request lands on any kernel, and the one holding the session serves it.
 * The fetch given to the transport only records which kernel answered.
 */
async function connect(lb: string, token: string, hops: Hop[]): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const recording: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const landed = res.headers.get('x-plinth-node') ?? '?';
    hops.push({ landed, servedBy: res.headers.get('x-plinth-forwarded-to') ?? landed, status: res.status, method: init?.method ?? 'GET' });
    return res;
  };
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', lb), { requestInit: { headers: { authorization: `Bearer ${token}` } }, fetch: recording });
  const client = new Client({ name: 'cluster-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

describe('MCP through a round-robin balancer over three kernels', { skip }, () => {
  let cluster: KernelCluster;
  const clients: Client[] = [];

  before(async () => {
    cluster = await startKernelCluster({
      postgresUrl: PG!,
      plugins: () => [
        { id: 'mcp', path: join(ROOT, 'plugins', 'mcp') },
        { id: 'toolbox', path: join(ROOT, 'plugins', 'mcp', 'test', 'fixtures', 'toolbox') },
      ],
    });
  });

  after(async () => {
    await Promise.all(clients.map(c => c.close().catch(() => undefined)));
    await cluster?.stop();
  });

  test('one session lists and calls tools while its requests land on all three kernels', async () => {
    const hops: Hop[] = [];
    const { client, transport } = await connect(cluster.lb, cluster.adminToken, hops);
    clients.push(client);
    const owner = transport.sessionId!.slice(0, transport.sessionId!.lastIndexOf('.'));
    for (let i = 0; i < 6; i++) {
      const names = (await client.listTools()).tools.map(t => t.name);
      assert.ok(names.includes('toolbox.echo'), names.join());
      const r: any = await client.callTool({ name: 'toolbox.echo', arguments: { text: `hi ${i}` } });
      assert.equal(r.structuredContent.text, `hi ${i}`);
    }
    const posts = hops.filter(h => h.method === 'POST');
    assert.ok(posts.every(h => h.status < 300), JSON.stringify(posts));
    assert.equal(new Set(posts.map(h => h.landed)).size, 3, 'requests landed on every kernel');
    assert.deepEqual([...new Set(posts.map(h => h.servedBy))], [owner], 'the owner served them all');
    assert.ok(posts.some(h => h.landed !== owner), 'some were relayed');
  });

  test('a refused caller is refused by the landing kernel, and another user cannot use the session', async () => {
    const hops: Hop[] = [];
    const { client, transport } = await connect(cluster.lb, cluster.adminToken, hops);
    clients.push(client);
    const user = await (await fetch(cluster.lb + '/api/users', { method: 'POST', headers: { authorization: `Bearer ${cluster.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ email: `mcp-${Date.now()}@example.test` }) })).json() as any;
    const tok = await (await fetch(`${cluster.lb}/api/users/${user.user.id}/tokens`, { method: 'POST', headers: { authorization: `Bearer ${cluster.adminToken}`, 'content-type': 'application/json' }, body: '{}' })).json() as any;
    const list = (token: string | undefined) => fetch(cluster.lb + '/mcp', {
      method: 'POST',
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    for (let i = 0; i < 3; i++) {
      const none = await list(undefined);
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('x-plinth-forwarded-to'), null, 'an unauthenticated request is not relayed');
      const stolen = await list(tok.token);
      assert.equal(stolen.status, 404);
      assert.equal((await stolen.json() as any).error.message, 'Session not found');
      assert.equal((await list(cluster.adminToken)).status, 200);
    }
  });

  test('an unknown session on a live kernel is 404 from that kernel; a request already forwarded is never sent on', async () => {
    const nodes = await Promise.all(cluster.kernels.map(async k => (await fetch(k.baseUrl + '/api/health')).headers.get('x-plinth-node')!));
    const ask = (base: string, sessionId: string, headers: Record<string, string> = {}) => fetch(base + '/mcp', {
      method: 'POST',
      headers: { authorization: `Bearer ${cluster.adminToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25', ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
    });
    const forged = `${nodes[1]}.00000000-0000-4000-8000-000000000000`;
    const relayed = await ask(cluster.kernels[0].baseUrl, forged);
    assert.equal(relayed.status, 404);
    assert.equal(relayed.headers.get('x-plinth-forwarded-to'), nodes[1], 'relayed to the node the id names, which does not know it');
    const looped = await ask(cluster.kernels[0].baseUrl, forged, { 'x-plinth-forwarded-by': nodes[2] });
    assert.equal(looped.status, 404);
    assert.equal(looped.headers.get('x-plinth-forwarded-to'), null, 'a forwarded request is answered where it landed');
    for (const id of ['no-dot-at-all', 'node_unknown.1234', `${nodes[0]}.`]) assert.equal((await ask(cluster.kernels[0].baseUrl, id)).status, 404, id);
  });

  test('a session whose kernel died answers 404 "Session not found" everywhere, and the client starts a new one', async () => {
    const hops: Hop[] = [];
    const { client, transport } = await connect(cluster.lb, cluster.adminToken, hops);
    const sessionId = transport.sessionId!;
    const owner = sessionId.slice(0, sessionId.lastIndexOf('.'));
    const nodes = await Promise.all(cluster.kernels.map(async k => (await fetch(k.baseUrl + '/api/health')).headers.get('x-plinth-node')));
    const victim = nodes.indexOf(owner);
    assert.ok(victim >= 0, `owner ${owner} among ${nodes.join()}`);
    await cluster.kill(victim);
    // Right after the kill the dead node's heartbeat still holds (the relay finds it refusing
    // connections); either way every surviving kernel answers 404 at once, not a 5xx.
    for (let i = 0; i < 4; i++) {
      const err = await client.listTools().then(() => undefined, e => e);
      assert.ok(err instanceof StreamableHTTPError, String(err));
      assert.equal(err.code, 404);
      assert.match(err.message, /Session not found/);
    }
    await client.close().catch(() => undefined);
    const again = await until(async () => connect(cluster.lb, cluster.adminToken, []), 10_000, 'a new session');
    clients.push(again.client);
    const fresh = again.transport.sessionId!;
    assert.notEqual(fresh.slice(0, fresh.lastIndexOf('.')), owner);
    const r: any = await again.client.callTool({ name: 'toolbox.echo', arguments: { text: 'after' } });
    assert.equal(r.structuredContent.text, 'after');
  });
});
