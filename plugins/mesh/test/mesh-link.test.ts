import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestKernel, mockServices, type TestKernel } from 'plinth/testing';
import { alive, TmuxServer, until } from './tmux-harness';

const MESH = join(__dirname, '..');
const base = { pingMs: 100, sweepMs: 100, confirmMs: 8000 };

describe('orphan panes and link (sqlite)', () => {
  const tmux = new TmuxServer();
  const kernels: TestKernel[] = [];
  after(async () => { tmux.stop(); for (const k of kernels) await k.stop().catch(() => undefined); });
  const kernel = async (config: Record<string, unknown> = {}, approve?: boolean) => {
    const services = approve === undefined ? undefined : [mockServices.toolPolicy({ decide: () => ({ approved: approve, reason: approve ? undefined : 'refused in the test' }) })];
    const k = await createTestKernel({ services, plugins: [{ path: MESH, config: { ...base, ...config } }] });
    kernels.push(k);
    return k;
  };

  test('an orphan pane is listed; a link whose hook never connects is rolled back with a non-2xx; a good link registers and delivers', async () => {
    tmux.run(['new-session', '-d', '-s', 'orphans', '-x', '200', '-y', '50', 'sleep 600']);
    const paneId = tmux.run(['display-message', '-p', '-t', 'orphans', '#{pane_id}']).trim();
    const socket = tmux.socket;

    // A hook that exits at once: 503, and nothing of the link remains.
    const broken = await kernel({ hookCommand: ['/bin/sh', '-c', 'exit 0', 'sh'], linkTimeoutMs: 1500 });
    const orphans = (await broken.request('GET', '/api/panes/orphans')).body.items.filter((p: any) => p.socket === socket);
    assert.deepEqual(orphans.map((p: any) => [p.pane_id, p.stale_binding]), [[paneId, null]]);
    const user = await broken.createUser();
    assert.equal((await broken.request('GET', '/api/panes/orphans', { token: user.token })).status, 403);
    const failed = await broken.request('POST', `/api/panes/${encodeURIComponent(paneId)}/link`, { body: { backend: 'command', name: 'linked', socket } });
    assert.equal(failed.status, 503, failed.text);
    assert.equal(failed.body.error.code, 'PLINTH_ERR_MESH_TRANSPORT_UNESTABLISHED');
    assert.match(failed.body.error.details.repair, /plinth peer hook/);
    assert.deepEqual((await broken.request('GET', '/api/peers')).body.items, []);
    assert.equal(tmux.run(['show-options', '-p', '-t', paneId, '-v', '-q', '@plinth_peer_id']).trim(), '');

    // A hook that cannot be started: 500, rolled back the same way.
    const missing = await kernel({ hookCommand: ['/nonexistent/plinth'] });
    const spawnFailed = await missing.request('POST', `/api/panes/${encodeURIComponent(paneId)}/link`, { body: { backend: 'command', socket } });
    assert.equal(spawnFailed.status, 500, spawnFailed.text);
    assert.equal(spawnFailed.body.error.code, 'PLINTH_ERR_MESH_HOOK_SPAWN_FAILED');
    assert.deepEqual((await missing.request('GET', '/api/peers')).body.items, []);

    // The real hook: linked, online, no longer an orphan, and a notify lands in the pane.
    const good = await kernel();
    const linked = await good.request('POST', `/api/panes/${encodeURIComponent(paneId)}/link`, { body: { backend: 'command', name: 'linked', socket } });
    assert.equal(linked.status, 201, linked.text);
    assert.equal(linked.body.linked, true);
    const peerId = linked.body.peer.id;
    await until(async () => (await good.request('GET', `/api/peers/${peerId}`)).body.lifecycle === 'online' || undefined);
    assert.ok(!(await good.request('GET', '/api/panes/orphans')).body.items.some((p: any) => p.socket === socket && p.pane_id === paneId));
    const sent = await good.request('POST', '/api/notify', { body: { to: peerId, text: 'hello linked pane' } });
    assert.equal(sent.body.status, 'delivered', sent.text);
    assert.ok(tmux.run(['capture-pane', '-p', '-J', '-t', paneId]).includes('hello linked pane'));
    // The hook acts with a token minted for it: good while the peer lives, refused once it is retired.
    const hookToken = /(?:^|\0)PLINTH_TOKEN=([^\0]+)/.exec(readFileSync(`/proc/${linked.body.hook_pid}/environ`, 'utf8'))![1];
    assert.equal((await good.request('GET', `/api/peers/${peerId}`, { token: hookToken })).status, 200);
    // Once its peer is retired the pane is an orphan again, flagged as a stale binding.
    await good.request('DELETE', `/api/peers/${peerId}`);
    const refused = await good.request('GET', '/api/peers', { token: hookToken });
    assert.equal(refused.status, 401, 'the retired peer\'s hook token is revoked');
    assert.equal((await good.request('GET', '/api/peers')).status, 200, 'the admin\'s own token still works');
    const stale = await until(async () => (await good.request('GET', '/api/panes/orphans')).body.items.find((p: any) => p.socket === socket && p.pane_id === paneId));
    assert.equal(stale.stale_binding, peerId);
  });

  test('spawn_peer and kill_peer (gated): refused when the approver says no; approved, spawn links a new pane and kill retires the peer and stops its agent', async () => {
    for (const approve of [false, true]) {
      const k = await kernel({ spawnCommands: { command: ['sleep', '600'] } }, approve);
      const alice = await k.createUser();
      const bob = await k.createUser();
      const pane = tmux.startAgent(approve ? 'victim' : 'survivor', { url: k.baseUrl, token: alice.token, circle: approve ? 'kill-yes' : 'kill-no' });
      const peer = await until(async () => (await k.request('GET', '/api/peers', { token: alice.token })).body.items.find((p: any) => p.inbound === 'connected'));
      const agentPid = pane.agentPid();
      const call = (token: string) => k.request('POST', '/api/plugins/mesh/execute/kill_peer', { token, body: { peer_id: peer.id } });
      const spawn = (body: unknown) => k.request('POST', '/api/plugins/mesh/execute/spawn_peer', { token: alice.token, body });
      const windows = () => tmux.run(['list-windows', '-t', approve ? 'kill-yes' : 'kill-no']).trim().split('\n').length;
      if (!approve) {
        assert.equal((await spawn({ from: peer.id, backend: 'command' })).status, 403);
        assert.equal(windows(), 1);
        const refused = await call(alice.token);
        assert.equal(refused.status, 403, refused.text);
        assert.equal((await k.request('GET', `/api/peers/${peer.id}`, { token: alice.token })).body.lifecycle, 'online');
        assert.ok(alive(agentPid));
        continue;
      }
      assert.equal((await spawn({ from: peer.id, backend: 'claude-code' })).status, 409, 'no program configured for it');
      const spawned = await spawn({ from: peer.id, backend: 'command', name: 'helper' });
      assert.equal(spawned.status, 200, spawned.text);
      assert.equal(spawned.body.result.linked, true);
      assert.equal(spawned.body.result.peer.circle, 'kill-yes');
      assert.equal(spawned.body.result.peer.lifecycle, 'online');
      assert.equal(windows(), 2);
      assert.equal((await call(bob.token)).status, 404);
      const killed = await call(alice.token);
      assert.equal(killed.status, 200, killed.text);
      assert.deepEqual(killed.body.result, { peer_id: peer.id, retired: true, signalled: true });
      await until(() => !alive(agentPid), 10_000, 'agent stopped');
      assert.equal((await k.request('GET', `/api/peers/${peer.id}`, { token: alice.token })).body.lifecycle, 'retired');
    }
  });
});
