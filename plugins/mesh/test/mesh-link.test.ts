import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { TmuxServer, until } from './tmux-harness';

const MESH = join(__dirname, '..');
const base = { pingMs: 100, sweepMs: 100, confirmMs: 8000 };

describe('orphan panes and link (sqlite)', () => {
  const tmux = new TmuxServer();
  const kernels: TestKernel[] = [];
  after(async () => { tmux.stop(); for (const k of kernels) await k.stop().catch(() => undefined); });
  const kernel = async (config: Record<string, unknown> = {}) => {
    const k = await createTestKernel({ plugins: [{ path: MESH, config: { ...base, ...config } }] });
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
    // Once its peer is retired the pane is an orphan again, flagged as a stale binding.
    await good.request('DELETE', `/api/peers/${peerId}`);
    const stale = await until(async () => (await good.request('GET', '/api/panes/orphans')).body.items.find((p: any) => p.socket === socket && p.pane_id === paneId));
    assert.equal(stale.stale_binding, peerId);
  });
});
