/**
 * Issue 12 §1: one WebSocket frame must not stop the server. The real server (`plinth start`, as
 * the review ran it) gets, on every WebSocket endpoint, deep nesting, a frame over 1 MB, invalid
 * JSON, a binary frame, an unknown type and a burst of 1,000 frames — as a non-admin user where
 * the endpoint allows one. After each, /api/health answers and a fresh, normal use still works.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type ServerProcess } from '../../helpers/server';
import { tempDir, writePlugin } from '../../helpers/plugins';
import { ROOT } from '../helpers';
import { connectWs, deeplyNested, type WsClient } from './ws-client';

/** A plugin's WebSocket whose listeners fail on purpose: the kernel, not the plugin, must contain it. */
const WSFIX = `import { definePlugin } from 'plinth/sdk';
export default definePlugin({ setup({ ws }) {
  ws.handle('/api/wsfix/echo', { auth: 'user' }, socket => {
    socket.on('message', async data => {
      const msg = JSON.parse(String(data));
      if (msg.type === 'reject') { await new Promise(r => setTimeout(r, 5)); throw new Error('listener rejected'); }
      if (msg.type === 'throw') throw new Error('listener threw');
      if (msg.type === 'echo') return socket.send(JSON.stringify({ type: 'echo', text: msg.text }));
      socket.send(JSON.stringify({ type: 'error', message: 'unknown type' }));
    });
    socket.addEventListener('message', ev => { if (String(ev.data) === '{"type":"throw-event-target"}') throw new Error('event-target listener threw'); });
  });
} });
`;

interface Endpoint {
  name: string;
  path: string;
  /** Who uses it: a non-admin user where the endpoint allows one. */
  as: 'user' | 'admin';
  /** A normal use that must work: resolves once the endpoint answered as it should. */
  use(c: WsClient): Promise<void>;
  /** A frame of the endpoint's own protocol, for the burst. */
  frame(i: number): string;
}

const ENDPOINTS: Endpoint[] = [
  {
    name: 'kernel events', path: '/ws', as: 'user',
    use: async c => { c.ws.send(JSON.stringify({ type: 'ping' })); await c.until(f => f.type === 'pong'); },
    frame: () => JSON.stringify({ type: 'ping' }),
  },
  {
    name: 'agent chat', path: '/api/agent/ws', as: 'user',
    use: async c => {
      c.ws.send(JSON.stringify({ type: 'message', id: 'ok', text: 'still there?' }));
      const done = await c.until(f => f.id === 'ok' && (f.type === 'done' || f.type === 'error'));
      assert.equal(done.type, 'done', JSON.stringify(done));
    },
    frame: i => JSON.stringify({ type: 'message', id: i, text: 'hi' }),
  },
  {
    // A non-admin may only attach to a run it owns; the admin's ephemeral shell is the endpoint's full surface.
    name: 'runs terminal', path: '/api/terminal', as: 'admin',
    use: async c => {
      await c.until(f => f.type === 'ready');
      c.ws.send(JSON.stringify({ type: 'input', data: 'echo plinth-$((40+2))\n' }));
      await c.until(f => f.type === 'output' && String(f.data).includes('plinth-42'));
    },
    frame: () => JSON.stringify({ type: 'resize', cols: 100, rows: 30 }),
  },
  {
    name: 'plugin fixture', path: '/api/wsfix/echo', as: 'user',
    use: async c => { c.ws.send(JSON.stringify({ type: 'echo', text: 'hi' })); await c.until(f => f.type === 'echo' && f.text === 'hi'); },
    frame: i => JSON.stringify({ type: 'echo', text: String(i) }),
  },
];

describe('hostile user: WebSocket frames', () => {
  let srv: ServerProcess;
  let dataDir: string;
  let fixtures: string;
  let userToken: string;
  const wsUrl = (path: string) => srv.baseUrl.replace('http', 'ws') + path;
  const tokenFor = (e: Endpoint) => (e.as === 'admin' ? srv.adminToken : userToken);
  const open = (e: Endpoint) => connectWs(wsUrl(e.path), { authorization: `Bearer ${tokenFor(e)}` });

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'plinth-hostile-ws-'));
    fixtures = tempDir('hostile-ws-');
    const wsfix = writePlugin(fixtures, { id: 'wsfix', code: WSFIX });
    const registry = join(dataDir, 'plugin-registry.json');
    writeFileSync(registry, JSON.stringify({ plugins: [
      { id: 'accounts', path: join(ROOT, 'plugins', 'accounts'), enabled: true, config: {} },
      { id: 'agents', path: join(ROOT, 'plugins', 'agents'), enabled: true, config: {} },
      { id: 'runs', path: join(ROOT, 'plugins', 'runs'), enabled: true, config: {} },
      { id: 'wsfix', path: wsfix, enabled: true, config: {} },
    ] }));
    srv = await startServer({ PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry });
    const admin = { authorization: `Bearer ${srv.adminToken}`, 'content-type': 'application/json' };
    const user = await (await fetch(`${srv.baseUrl}/api/users`, { method: 'POST', headers: admin, body: JSON.stringify({ email: 'mallory@example.test' }) })).json() as any;
    userToken = (await (await fetch(`${srv.baseUrl}/api/users/${user.user.id}/tokens`, { method: 'POST', headers: admin, body: '{}' })).json() as any).token;
  });

  after(async () => {
    await srv?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(fixtures, { recursive: true, force: true });
  });

  /** The server still answers, and the endpoint still serves a fresh socket. */
  async function stillServes(e: Endpoint, after: string): Promise<void> {
    const health = await fetch(`${srv.baseUrl}/api/health`).catch(err => ({ status: `unreachable (${err.message})` }));
    assert.equal(health.status, 200, `after ${after} on ${e.path}, /api/health: ${health.status}\n${srv.output().slice(-2000)}`);
    const c = await open(e);
    await e.use(c);
    c.ws.close();
  }

  test('the reported frame: /api/agent/ws with an id nested 100,000 deep, as a non-admin user', async () => {
    const e = ENDPOINTS[1];
    const c = await open(e);
    c.ws.send(`{"type":"message","text":"","id":${deeplyNested(100_000)}}`);
    const closed = await c.closed;
    assert.equal(closed.code, 1007);
    assert.match(closed.reason, /deeper than 64/);
    assert.equal(c.frames.find(f => f.type === 'error')?.error.code, 'PLINTH_ERR_JSON_TOO_DEEP');
    await stillServes(e, 'the reported frame');
  });

  for (const e of ENDPOINTS) {
    test(`${e.name} (${e.path}): deep nesting, 1 MB, invalid JSON, binary, unknown type, a burst of 1,000`, { timeout: 120_000 }, async () => {
      await stillServes(e, 'nothing');

      let c = await open(e);
      c.ws.send(`{"type":"message","text":"","id":${deeplyNested(100_000)}}`);
      assert.equal((await c.closed).code, 1007, 'deep nesting closes with 1007');
      assert.equal(c.frames.find(f => f.type === 'error')?.error.code, 'PLINTH_ERR_JSON_TOO_DEEP');
      await stillServes(e, 'deep nesting');

      // Nesting at the limit is not refused by the kernel (the endpoint answers it as it likes).
      c = await open(e);
      c.ws.send(`{"type":"nested","id":${deeplyNested(60)}}`);
      await e.use(c);
      c.ws.close();

      c = await open(e);
      c.ws.send(JSON.stringify({ type: 'message', text: 'x'.repeat(1024 * 1024) }));
      assert.equal((await c.closed).code, 1009, 'a frame over 1 MB closes with 1009');
      await stillServes(e, 'a 1 MB frame');

      c = await open(e);
      c.ws.send('{"type": "message", "text": "unterminated');
      await new Promise(r => setTimeout(r, 100));
      c.ws.close();
      await stillServes(e, 'invalid JSON');

      c = await open(e);
      c.ws.send(Buffer.from([0xff, 0x00, 0xfe, 0x7b, 0x5b, 0x22]), { binary: true });
      await new Promise(r => setTimeout(r, 100));
      c.ws.close();
      await stillServes(e, 'a binary frame');

      c = await open(e);
      c.ws.send(JSON.stringify({ type: 'no-such-type', payload: { a: [1, 2, 3] } }));
      await new Promise(r => setTimeout(r, 100));
      c.ws.close();
      await stillServes(e, 'an unknown type');

      c = await open(e);
      for (let i = 0; i < 1000; i++) c.ws.send(e.frame(i));
      await new Promise(r => setTimeout(r, 300));
      c.ws.close();
      await stillServes(e, 'a burst of 1,000 frames');
    });
  }

  test('a plugin listener that throws or rejects closes only its socket: 1011 after a JSON error frame, logged against the plugin', async () => {
    const e = ENDPOINTS[3];
    for (const frame of ['{"type":"reject"}', '{"type":"throw"}', '{"type":"throw-event-target"}', 'not json at all']) {
      const bystander = await open(e);
      const c = await open(e);
      c.ws.send(frame);
      const closed = await c.closed;
      assert.equal(closed.code, 1011, `${frame} → ${closed.code}`);
      assert.equal(c.frames.find(f => f.error?.code)?.error.code, 'PLINTH_ERR_INTERNAL', `${frame}: ${JSON.stringify(c.frames)}`);
      // Another socket of the same endpoint is untouched.
      await e.use(bystander);
      bystander.ws.close();
      await stillServes(e, frame);
    }
    const logs = await (await fetch(`${srv.baseUrl}/api/logs?plugin=wsfix&level=error`, { headers: { authorization: `Bearer ${srv.adminToken}` } })).json() as any;
    assert.ok(logs.items.some((l: any) => l.msg === 'WebSocket handler failed'), JSON.stringify(logs.items).slice(0, 500));
    const plugins = await (await fetch(`${srv.baseUrl}/api/plugins`, { headers: { authorization: `Bearer ${srv.adminToken}` } })).json() as any;
    assert.equal(plugins.items.find((p: any) => p.id === 'wsfix').status, 'active', 'a failed socket is not a failed plugin');
  });
});
