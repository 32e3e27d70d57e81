import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Role, TaskState } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory, type Client } from '@a2a-js/sdk/client';
import { createTestKernel, echoAgents, mockServices, type TestKernel } from 'plinth/testing';

// A fixture provides `agents.runtime` (plinth/testing's echoAgents: an agent that names the caller, a slow one) so these tests
// pin the A2A mapping alone; test/e2e/a2a-agents.test.ts runs the same client against the real agents plugin.
const text = (value: string, agent?: string) => ({
  message: { messageId: randomUUID(), role: Role.ROLE_USER, parts: [{ content: { $case: 'text', value } }], metadata: agent ? { agent } : undefined },
}) as any;
const partsText = (parts: any[] = []) => parts.map(p => p.content?.value ?? '').join('');

async function clientFor(baseUrl: string, token: string): Promise<Client> {
  const fetchImpl: typeof fetch = (url, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(url, { ...init, headers });
  };
  const factory = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { transports: [new JsonRpcTransportFactory({ fetchImpl })] }));
  return factory.createFromUrl(baseUrl);
}

describe('A2A server and client', () => {
  let k: TestKernel;
  let approve = true;
  before(async () => {
    k = await createTestKernel({
      // The peers in these tests are this kernel itself on 127.0.0.1: the admin allowlists it (PLINTH_EGRESS_ALLOW).
      egressAllow: ['127.0.0.1'],
      services: [mockServices.toolPolicy({ decide: () => ({ approved: approve, reason: 'test' }) })],
      plugins: [
        echoAgents({ reply: ({ message, user, resumed }) => `echo(${user.id}, ${resumed ? 'resumed' : 'new'}): ${message}` }),
        { path: join(__dirname, '..'), config: { defaultAgent: 'echo' } },
      ],
    });
  });
  after(() => k.stop());

  test('the agent card is public at both paths, with the JSON-RPC interface, bearer scheme and one skill per agent', async () => {
    const card = (await k.request('GET', '/.well-known/agent-card.json', { token: null })).body;
    assert.deepEqual((await k.request('GET', '/.well-known/agent.json', { token: null })).body, card);
    assert.equal(card.supportedInterfaces[0].url, `${k.baseUrl}/a2a`);
    assert.equal(card.supportedInterfaces[0].protocolVersion, '1.0');
    assert.equal(card.capabilities.streaming, true);
    assert.ok(card.securitySchemes.bearer);
    assert.deepEqual(card.skills.map((s: any) => s.id), ['echo', 'slow']);
    assert.equal(card.skills[0].description, 'Repeats what you say.');
  });

  test('unauthenticated or badly authenticated JSON-RPC calls are refused', async () => {
    const body = { jsonrpc: '2.0', id: 1, method: 'SendMessage', params: { message: { messageId: 'm', role: 'ROLE_USER', parts: [{ text: 'hi' }] } } };
    const r = await k.request('POST', '/a2a', { token: null, body, headers: { 'a2a-version': '1.0' } });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, -32001);
    assert.equal((await k.request('POST', '/a2a', { token: 'plt_nope', body })).status, 401);
    const factory = new ClientFactory();
    const anon = await factory.createFromUrl(k.baseUrl);
    await assert.rejects(anon.sendMessage(text('hi')));
  });

  test('sendMessage runs a turn as the caller and answers a completed task; getTask finds it, another user does not', async () => {
    const u = await k.createUser();
    const client = await clientFor(k.baseUrl, u.token);
    const res: any = await client.sendMessage(text('hello there'));
    const task = res.payload?.value ?? res;
    assert.equal(task.status.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(partsText(task.status.message.parts), `echo(${u.user.id}, new): hello there`);
    assert.equal(partsText(task.artifacts[0].parts), `echo(${u.user.id}, new): hello there`);
    const got: any = await client.getTask({ id: task.id } as any);
    assert.equal(got.id, task.id);
    // The same context continues the same Plinth session.
    const again: any = await client.sendMessage({ message: { ...text('more').message, contextId: task.contextId } } as any);
    assert.match(partsText((again.payload?.value ?? again).status.message.parts), /resumed/);
    const other = await clientFor(k.baseUrl, (await k.createUser()).token);
    await assert.rejects(other.getTask({ id: task.id } as any), /not found/i);
    await assert.rejects(client.getTask({ id: 'no-such-task' } as any), /not found/i);
  });

  test('sendMessageStream streams the task, working status, text chunks and the final state', async () => {
    const client = await clientFor(k.baseUrl, k.adminToken);
    const kinds: string[] = [];
    let streamed = '';
    let final: number | undefined;
    for await (const ev of client.sendMessageStream(text('one two three')) as AsyncIterable<any>) {
      const kind = ev.payload?.$case ?? ev.kind;
      kinds.push(kind);
      const v = ev.payload?.value ?? ev;
      if (kind === 'artifactUpdate') streamed += partsText(v.artifact.parts);
      if (kind === 'statusUpdate') final = v.status.state;
    }
    assert.equal(kinds[0], 'task');
    assert.ok(kinds.filter(x => x === 'artifactUpdate').length >= 3, `chunks streamed: ${kinds.join(',')}`);
    assert.match(streamed, /: one two three$/);
    assert.equal(final, TaskState.TASK_STATE_COMPLETED);
  });

  test('cancelTask cancels a running turn; a finished task is not cancelable', async () => {
    const client = await clientFor(k.baseUrl, k.adminToken);
    const stream = client.sendMessageStream(text('wait', 'slow'))[Symbol.asyncIterator]();
    const first: any = await stream.next();
    const taskId = (first.value.payload?.value ?? first.value).id;
    const canceled: any = await client.cancelTask({ id: taskId } as any);
    assert.equal(canceled.status.state, TaskState.TASK_STATE_CANCELED);
    await stream.return?.(undefined);
    const done: any = await client.sendMessage(text('quick'));
    await assert.rejects(client.cancelTask({ id: (done.payload?.value ?? done).id } as any), /cancel/i);
  });

  test('v0.3 method names work through the SDK legacy layer', async () => {
    const r = await k.request('POST', '/a2a', {
      headers: { 'a2a-version': '0.3' },
      body: { jsonrpc: '2.0', id: 7, method: 'message/send', params: { message: { kind: 'message', messageId: 'm1', role: 'user', parts: [{ kind: 'text', text: 'legacy' }] } } },
    });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.result, r.text);
    assert.equal(r.body.result.kind, 'task');
    assert.equal(r.body.result.status.state, 'completed');
    const got = await k.request('POST', '/a2a', { headers: { 'a2a-version': '0.3' }, body: { jsonrpc: '2.0', id: 8, method: 'tasks/get', params: { id: r.body.result.id } } });
    assert.equal(got.body.result.id, r.body.result.id);
    const unknown = await k.request('POST', '/a2a', { headers: { 'a2a-version': '9.9' }, body: { jsonrpc: '2.0', id: 9, method: 'GetTask', params: { id: 'x' } } });
    assert.ok(unknown.body.error, 'an unsupported version is an A2A error');
  });

  test('hello records a peer; a2a.send talks to it (gated) and bad peers fail clearly', async () => {
    const bad = await k.request('POST', '/api/a2a/hello', { body: { name: 'nobody', cardUrl: `${k.baseUrl}/api/health` } });
    assert.equal(bad.status, 502);
    assert.equal((await k.request('POST', '/api/a2a/hello', { body: { name: 'bad name!', cardUrl: 'ftp://x' } })).status, 400);
    const ok = await k.request('POST', '/api/a2a/hello', { body: { name: 'self', cardUrl: `${k.baseUrl}/.well-known/agent-card.json` } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.agentName, 'Plinth');
    const peers = (await k.request('GET', '/api/a2a/peers')).body.items;
    assert.deepEqual(peers.map((p: any) => p.name), ['self']);
    // The peer got no token (hello records none), so the remote refuses: a clear 502, not a hang.
    const refused = await k.request('POST', '/api/plugins/a2a/execute/send', { body: { peer: 'self', message: 'hi' } });
    assert.equal(refused.status, 502, refused.text);
    const u = await k.createUser();
    await k.request('POST', '/api/a2a/hello', { body: { name: 'selfauth', cardUrl: `${k.baseUrl}/.well-known/agent-card.json`, token: u.token } });
    assert.ok(!JSON.stringify((await k.request('GET', '/api/a2a/peers')).body).includes(u.token), 'tokens are never listed');
    const sent = await k.request('POST', '/api/plugins/a2a/execute/send', { body: { peer: 'selfauth', message: 'ping' } });
    assert.equal(sent.status, 200, sent.text);
    assert.equal(sent.body.result.kind, 'task');
    assert.equal(sent.body.result.text, `echo(${u.user.id}, new): ping`);
    approve = false;
    assert.equal((await k.request('POST', '/api/plugins/a2a/execute/send', { body: { peer: 'self', message: 'hi' } })).status, 403);
    approve = true;
    assert.equal((await k.request('POST', '/api/plugins/a2a/execute/send', { body: { peer: 'ghost', message: 'hi' } })).status, 404);
  });

  test('peers belong to the user who added them: B re-registering A\'s peer name does not redirect A\'s sends', async () => {
    // B's server: a copy of this kernel's card pointing at B's own JSON-RPC endpoint, which records every call.
    const card = (await k.request('GET', '/.well-known/agent-card.json', { token: null })).body;
    const calls: string[] = [];
    const evil = createServer((req, res) => {
      if (req.url === '/.well-known/agent-card.json') {
        const port = (evil.address() as AddressInfo).port;
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ ...card, name: 'Evil', supportedInterfaces: card.supportedInterfaces.map((i: any) => ({ ...i, url: `http://127.0.0.1:${port}/rpc` })) }));
      }
      let body = '';
      req.on('data', c => { body += c; });
      req.on('end', () => { calls.push(body); res.writeHead(500).end(); });
    });
    await new Promise<void>(r => evil.listen(0, '127.0.0.1', () => r()));
    const evilCard = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/.well-known/agent-card.json`;
    try {
      const a = await k.createUser();
      const b = await k.createUser();
      const helloA = await k.request('POST', '/api/a2a/hello', { token: a.token, body: { name: 'partner', cardUrl: `${k.baseUrl}/.well-known/agent-card.json`, token: a.token } });
      assert.equal(helloA.status, 200, helloA.text);
      const helloB = await k.request('POST', '/api/a2a/hello', { token: b.token, body: { name: 'partner', cardUrl: evilCard } });
      assert.equal(helloB.status, 200, helloB.text);
      assert.equal(helloB.body.agentName, 'Evil');

      const sentA = await k.request('POST', '/api/plugins/a2a/execute/send', { token: a.token, body: { peer: 'partner', message: 'for my partner' } });
      assert.equal(sentA.status, 200, sentA.text);
      assert.equal(sentA.body.result.text, `echo(${a.user.id}, new): for my partner`, 'A\'s send reached A\'s peer');
      assert.equal(calls.length, 0, 'nothing of A\'s reached B\'s server');
      // B's own send does go to B's server: the peers are two, one each.
      await k.request('POST', '/api/plugins/a2a/execute/send', { token: b.token, body: { peer: 'partner', message: 'mine' } });
      assert.equal(calls.length, 1);
      assert.match(calls[0], /mine/);

      const listed = async (token: string) => ((await k.request('GET', '/api/a2a/peers', { token })).body.items as any[]).filter(p => p.name === 'partner');
      assert.deepEqual((await listed(a.token)).map(p => [p.agentName, p.owner]), [['Plinth', a.user.id]]);
      assert.deepEqual((await listed(b.token)).map(p => [p.agentName, p.owner]), [['Evil', b.user.id]]);
      assert.equal((await listed(k.adminToken)).length, 2, 'an admin sees every user\'s peers');
      const c = await k.createUser();
      assert.deepEqual(await listed(c.token), [], 'a third user sees neither');
      assert.equal((await k.request('POST', '/api/plugins/a2a/execute/send', { token: c.token, body: { peer: 'partner', message: 'x' } })).status, 404);
    } finally {
      evil.close();
    }
  });

  test('config peers are shared and read-only', async () => {
    const k2 = await createTestKernel({
      egressAllow: ['127.0.0.1'],
      plugins: [{ path: join(__dirname, '..'), config: { peers: { shared: { cardUrl: `${k.baseUrl}/.well-known/agent-card.json` } } } }],
    });
    try {
      const u = await k2.createUser();
      const v = await k2.createUser();
      for (const token of [u.token, v.token]) {
        const items = (await k2.request('GET', '/api/a2a/peers', { token })).body.items;
        assert.deepEqual(items.map((p: any) => [p.name, p.source, p.owner]), [['shared', 'config', null]]);
      }
      const taken = await k2.request('POST', '/api/a2a/hello', { token: u.token, body: { name: 'shared', cardUrl: `${k.baseUrl}/.well-known/agent-card.json` } });
      assert.equal(taken.status, 409);
    } finally {
      await k2.stop();
    }
  });
});
