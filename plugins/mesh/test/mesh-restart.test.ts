import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { sleep, TmuxServer, until, type Pane } from './tmux-harness';

const MESH = join(__dirname, '..');
const config = { pingMs: 100, sweepMs: 100, confirmMs: 8000 };

function freePort(): Promise<number> {
  return new Promise(resolve => { const s = createServer().listen(0, '127.0.0.1', () => { const port = (s.address() as any).port; s.close(() => resolve(port)); }); });
}

describe('mesh across restarts (sqlite)', () => {
  const tmux = new TmuxServer();
  const stops: Array<() => Promise<void>> = [];
  after(async () => { tmux.stop(); for (const s of stops) await s().catch(() => undefined); });

  async function kernel(dataDir: string, port: number, extra: Record<string, unknown> = {}): Promise<TestKernel> {
    const k = await createTestKernel({ dataDir, keepData: true, settings: { port }, plugins: [{ path: MESH, config: { ...config, ...extra } }] });
    stops.push(() => k.stop());
    return k;
  }
  const peerIn = (k: TestKernel, token: string, pane: Pane) => until(async () =>
    (await k.request('GET', '/api/peers', { token })).body.items.find((p: any) => p.binding.pane_id === pane.id && p.lifecycle === 'online' && p.inbound === 'connected'), 20_000, `${pane.name} online`);

  test('asks open when the kernel stops survive the restart; the hooks reconnect and the ask is answered', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'plinth-mesh-restart-'));
    const port = await freePort();
    let k = await kernel(dataDir, port);
    const alice = await k.createUser();
    const [pa, pb] = [tmux.startAgent('first', { url: k.baseUrl, token: alice.token }), tmux.startAgent('second', { url: k.baseUrl, token: alice.token, autoAck: false })];
    const [A, B] = [await peerIn(k, alice.token, pa), await peerIn(k, alice.token, pb)];
    const cid = (await k.request('POST', '/api/ask', { token: alice.token, body: { from: A.id, to: B.id, text: 'across the restart' } })).body.correlation_id;
    await until(() => pb.screen().includes(cid), 10_000, 'ask injected');
    await k.stop();
    await sleep(300);
    k = await kernel(dataDir, port);
    const pending = (await k.request('GET', `/api/asks/pending?peer_id=${B.id}&direction=inbound`, { token: alice.token })).body.items;
    assert.deepEqual(pending.map((x: any) => x.correlation_id), [cid]);
    // The hooks never gave up: both inboxes are back on the new kernel, and the reply reaches the asker's pane.
    await peerIn(k, alice.token, pa);
    await peerIn(k, alice.token, pb);
    const acked = await k.request('POST', '/api/ack', { token: alice.token, body: { correlation_id: cid, message: 'still here' } });
    assert.equal(acked.status, 200, acked.text);
    await until(() => pa.screen().includes(`GOT reply from=second ${cid} still here`), 10_000, 'reply injected after the restart');
  });

  test('expiry closes an ask and tells the asker; pane reuse after a tmux server restart is detected', async () => {
    const k = await kernel(mkdtempSync(join(tmpdir(), 'plinth-mesh-expiry-')), await freePort());
    const alice = await k.createUser();
    const [pa, pb] = [tmux.startAgent('early', { url: k.baseUrl, token: alice.token, circle: 'expiry' }), tmux.startAgent('late', { url: k.baseUrl, token: alice.token, circle: 'expiry', autoAck: false })];
    const [A, B] = [await peerIn(k, alice.token, pa), await peerIn(k, alice.token, pb)];
    const cid = (await k.request('POST', '/api/ask', { token: alice.token, body: { from: A.id, to: B.id, text: 'quick?', ttl_ms: 1000 } })).body.correlation_id;
    const closed = (await k.request('POST', `/api/asks/${cid}/wait`, { token: alice.token, body: { timeout_ms: 10_000 } })).body;
    assert.equal(closed.close_reason, 'expired');
    await until(() => pa.screen().includes(`ask ${cid} expired`), 10_000, 'asker told of the expiry');
    assert.equal((await k.request('POST', '/api/ack', { token: alice.token, body: { correlation_id: cid, message: 'too late' } })).status, 410);

    // A second private server under another label: its first pane is `%0` again, as the old one was.
    const other = new TmuxServer();
    try {
      const p0 = other.startAgent('phoenix', { url: k.baseUrl, token: alice.token, circle: 'reuse' });
      const P = await peerIn(k, alice.token, p0);
      const socket = other.socket;
      other.stop();
      await sleep(1100); // tmux start times have a one-second grain
      other.run(['new-session', '-d', '-s', 'reuse', 'sleep 60']);
      assert.equal(other.socket, socket);
      assert.equal(other.run(['display-message', '-p', '#{pane_id}']).trim(), P.binding.pane_id);
      const doc = await until(async () => { const d = (await k.request('GET', `/api/peers/${P.id}/doctor`, { token: alice.token })).body; const c = d.contradictions.map((x: any) => x.code); return c.includes('PANE_REUSED') && c.includes('AGENT_PID_DEAD') && d; }, 10_000, `PANE_REUSED and AGENT_PID_DEAD`);
      const codes = doc.contradictions.map((c: any) => c.code);
      assert.ok(codes.includes('TMUX_SERVER_RESTARTED'), codes.join());
      assert.ok(codes.includes('AGENT_PID_DEAD'), codes.join());
      assert.equal(doc.runtime, 'gone');
      const peer = (await k.request('GET', `/api/peers/${P.id}`, { token: alice.token })).body;
      assert.notEqual(peer.lifecycle, 'online');
      // The reused pane is no proof: re-registering the old binding is refused.
      const again = await k.request('POST', '/api/peers', { token: alice.token, body: { peer_id: P.id, name: 'phoenix', backend: 'command', binding: P.binding } });
      assert.equal(again.status, 422);
    } finally {
      other.stop();
    }
  });
});
