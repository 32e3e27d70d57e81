import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { alive, asUser, TmuxServer, until, type Pane } from './tmux-harness';

const MESH = join(__dirname, '..');
// Events cross kernels through the cluster plugin (the mesh relays asks and confirmations over them).
const CLUSTER = join(__dirname, '..', '..', 'cluster');
const config = { pingMs: 500, sweepMs: 200, confirmMs: 8000 };

describe('the mesh on two kernels sharing one PostgreSQL', { skip: !process.env.PLINTH_TEST_POSTGRES_URL && 'PLINTH_TEST_POSTGRES_URL not set' }, () => {
  let a: TestKernel;
  let b: TestKernel | undefined;
  let tmux: TmuxServer;
  let alice: { token: string; user: { id: string } };
  before(async () => {
    a = await createTestKernel({ database: 'postgres', plugins: [{ path: CLUSTER }, { path: MESH, config }] });
    b = await createTestKernel({ databaseUrl: a.databaseUrl, settings: { adminToken: a.adminToken }, plugins: [{ path: CLUSTER }, { path: MESH, config }] });
    alice = await a.createUser();
    tmux = new TmuxServer();
  });
  after(async () => { tmux.stop(); await b?.stop(); await a.stop(); });

  const on = (k: TestKernel) => asUser(k, alice.token);
  const peerIn = (pane: Pane) => until(async () => (await on(a).get('/api/peers')).body.items.find((p: any) => p.binding.pane_id === pane.id && p.lifecycle === 'online' && p.inbound !== 'none'), 30_000, `${pane.name} online`);

  test('a peer whose hook is on kernel A asks one on kernel B; the ack\'s reply comes back into A\'s pane; notifies and broadcasts cross too; retiring through A stops B\'s hook', async () => {
    const pa = tmux.startAgent('on-a', { url: a.baseUrl, token: alice.token, circle: 'cluster' });
    const pb = tmux.startAgent('on-b', { url: b!.baseUrl, token: alice.token, circle: 'cluster' });
    const [A, B] = [await peerIn(pa), await peerIn(pb)];

    const asked = await on(a).post('/api/ask', { from: A.id, to: 'on-b', text: 'across kernels?' });
    assert.equal(asked.status, 201, asked.text);
    assert.equal(asked.body.delivery, 'injected', 'kernel B\'s hook confirmed, and the confirmation came back to A');
    const cid = asked.body.correlation_id;
    await until(() => pb.screen().includes(`GOT ask from=on-a ${cid} across kernels?`), 30_000, 'the ask in B\'s pane');
    // The stand-in acks through kernel B (its hook's kernel); the reply goes back to A's inbox on kernel A.
    await until(() => pa.screen().includes(`GOT reply from=on-b ${cid} echo:across kernels?`), 30_000, 'the reply in A\'s pane');
    const closed = (await on(a).post(`/api/asks/${cid}/wait`, { timeout_ms: 0 })).body;
    assert.deepEqual([closed.state, closed.close_reason, closed.reply_via], ['closed', 'ack_with_message', 'push']);

    const note = await on(b!).post('/api/notify', { from: B.id, to: A.id, text: 'made on kernel B' });
    assert.deepEqual([note.status, note.body.status], [200, 'delivered'], note.text);
    await until(() => pa.screen().includes('made on kernel B'), 30_000, 'the notify in A\'s pane');
    const cast = await on(a).post('/api/broadcast', { from: A.id, text: 'to the whole circle' });
    assert.deepEqual(cast.body.items.map((r: any) => [r.peer_id, r.status]), [[B.id, 'injected']], cast.text);
    await until(() => pb.screen().includes('to the whole circle'), 30_000, 'the broadcast in B\'s pane');

    // Retired through kernel A: kernel B closes the inbox as retired, and the hook exits instead of reconnecting.
    const hookB = pb.hookPid();
    assert.equal((await on(a).del(`/api/peers/${B.id}`)).status, 200);
    await until(() => !alive(hookB), 30_000, 'B\'s hook exits');
  });

  test('a kernel that stopped holds no inbox: the other queues for its peers instead of relaying into the void', async () => {
    const pc = tmux.startAgent('on-b-too', { url: b!.baseUrl, token: alice.token, circle: 'cluster' });
    const C = await peerIn(pc);
    const first = await on(a).post('/api/notify', { to: C.id, text: 'while B runs' });
    assert.equal(first.body.status, 'delivered', first.text);
    await b!.stop();
    b = undefined;
    const queued = await until(async () => {
      const r = await on(a).post('/api/notify', { to: C.id, text: 'after B stopped' });
      return r.status === 202 ? r.body : undefined;
    }, 30_000, 'a notify queued');
    assert.equal(queued.reason, 'the peer has no inbox');
  });
});
