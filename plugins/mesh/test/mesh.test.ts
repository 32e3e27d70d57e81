import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { alive, asUser, sleep, TmuxServer, until, type Pane } from './tmux-harness';

const MESH = join(__dirname, '..');
const CHANNELS = join(__dirname, '..', '..', 'channels');
const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];
export const meshConfig = { pingMs: 250, sweepMs: 100, confirmMs: 8000 };

for (const database of dialects) {
  describe(`mesh with a real tmux (${database})`, () => {
    let k: TestKernel;
    let tmux: TmuxServer;
    let alice: { user: any; token: string };
    let bob: { user: any; token: string };
    before(async () => {
      k = await createTestKernel({ database, plugins: [{ path: CHANNELS }, { path: MESH, config: meshConfig }] });
      alice = await k.createUser();
      bob = await k.createUser();
      tmux = new TmuxServer();
    });
    after(async () => { tmux.stop(); await k.stop(); });

    const as = (who: { token: string }) => asUser(k, who.token);
    const a = () => as(alice);
    const peerIn = (pane: Pane) => until(async () => (await a().get('/api/peers')).body.items.find((p: any) => p.binding.pane_id === pane.id && p.lifecycle === 'online' && p.inbound === 'connected'), 20_000, `peer in ${pane.name} online`);
    const agent = (name: string, o: { autoAck?: boolean } = {}) => tmux.startAgent(name, { url: k.baseUrl, token: alice.token, ...o });

    test('register → ask → injected into the pane → ack with a message → the asker\'s pane shows the reply; the trace has every stage', async () => {
      const [pa, pb] = [agent('asker'), agent('helper')];
      const [A, B] = [await peerIn(pa), await peerIn(pb)];
      assert.equal(A.circle, 'circle');
      assert.match(A.id, /^peer_/);
      const asked = await a().post('/api/ask', { from: A.id, to: 'helper', text: 'what is 6*7?' });
      assert.equal(asked.status, 201, asked.text);
      assert.equal(asked.body.delivery, 'injected');
      const cid = asked.body.correlation_id;
      await until(() => pb.screen().includes(`GOT ask from=asker ${cid} what is 6*7?`), 10_000, 'ask shown in the helper pane');
      await until(() => pa.screen().includes(`GOT reply from=helper ${cid} echo:what is 6*7?`), 10_000, 'reply shown in the asker pane');
      const closed = await until(async () => { const r = await a().post(`/api/asks/${cid}/wait`, { timeout_ms: 0 }); return r.body.state === 'closed' && r.body; });
      assert.equal(closed.close_reason, 'ack_with_message');
      assert.equal(closed.reply_via, 'push');
      // A second ack with a message on a closed ask: 410; a bare ack of an ack_with_message is also closed.
      assert.equal((await a().post('/api/ack', { correlation_id: cid, message: 'again' })).status, 410);
      const trace = await until(async () => { const r = await a().get(`/api/traces/${cid}`); return r.status === 200 && r.body.stages.some((s: any) => s.stage === 'closed') && r.body; });
      const stages = trace.stages.map((s: any) => s.stage);
      for (const s of ['created', 'resolved', 'routed', 'sent', 'hook_received', 'injected', 'acked', 'closed']) assert.ok(stages.includes(s), `${s} in ${stages}`);
      // Another user sees neither the peers nor the trace nor the ask.
      assert.equal((await as(bob).get(`/api/peers/${A.id}`)).status, 404);
      assert.equal((await as(bob).get(`/api/traces/${cid}`)).status, 404);
      assert.equal((await as(bob).post('/api/ack', { correlation_id: cid })).status, 404);
      assert.equal((await as(bob).post('/api/ask', { from: A.id, to: B.id, text: 'x' })).status, 404);
      assert.deepEqual((await as(bob).get('/api/peers')).body.items, []);
      assert.equal((await as(bob).del(`/api/peers/${A.id}`)).status, 404);
      // The pane records its peer id (the proof rehook trusts).
      assert.equal(tmux.run(['display-message', '-p', '-t', pa.id, '#{@plinth_peer_id}']).trim(), A.id);
    });

    test('pull mode: an asker without inbox waits, and the reply is kept on the ask', async () => {
      const [pa, pb] = [agent('puller'), agent('answerer', { autoAck: false })];
      const [A, B] = [await peerIn(pa), await peerIn(pb)];
      process.kill(pa.hookPid(), 'SIGTERM');
      await until(async () => (await a().get(`/api/peers/${A.id}`)).body.lifecycle === 'offline' || undefined, 10_000, 'asker offline');
      const cid = (await a().post('/api/ask', { from: A.id, to: B.id, text: 'pull me' })).body.correlation_id;
      await until(() => pb.screen().includes(`GOT ask from=puller ${cid}`), 10_000, 'ask shown');
      // Nobody can take the reply yet: 503 and the ask stays open.
      const early = await a().post('/api/ack', { correlation_id: cid, message: 'too early' });
      assert.equal(early.status, 503, early.text);
      assert.equal((await a().post(`/api/asks/${cid}/wait`, { timeout_ms: 0 })).body.state, 'open');
      const waiting = a().post(`/api/asks/${cid}/wait`, { timeout_ms: 20_000 });
      await sleep(200);
      const acked = await a().post('/api/ack', { correlation_id: cid, message: 'pulled answer' });
      assert.equal(acked.status, 200, acked.text);
      const got = (await waiting).body;
      assert.equal(got.state, 'closed');
      assert.equal(got.reply, 'pulled answer');
      assert.equal(got.reply_via, 'pull');
      // A bare ack of an open ask is idempotent.
      const cid2 = (await a().post('/api/ask', { from: A.id, to: B.id, text: 'second' })).body.correlation_id;
      assert.equal((await a().post('/api/ack', { correlation_id: cid2 })).status, 200);
      assert.equal((await a().post('/api/ack', { correlation_id: cid2 })).status, 200);
      assert.equal((await a().post('/api/decline', { correlation_id: cid2 })).status, 410);
    });

    test('a notify to a peer without inbox is queued durably and delivered when its hook reconnects', async () => {
      const pb = agent('sleeper');
      const B = await peerIn(pb);
      process.kill(pb.hookPid(), 'SIGTERM');
      await until(async () => (await a().get(`/api/peers/${B.id}`)).body.inbound === 'none' || undefined, 10_000, 'inbox gone');
      const queued = await a().post('/api/notify', { to: B.id, text: 'while you were out' });
      assert.equal(queued.status, 202, queued.text);
      assert.equal(queued.body.status, 'queued');
      assert.match(queued.body.reason, /no inbox/);
      assert.ok(!pb.screen().includes('while you were out'));
      const hook = tmux.startHook(pb, { url: k.baseUrl, token: alice.token, args: ['--peer-id', B.id] });
      await until(() => pb.screen().includes('GOT notify from=plinth') && pb.screen().includes('while you were out'), 15_000, 'queued notify injected');
      const trace = await until(async () => { const st = (await a().get(`/api/traces/${queued.body.delivery_id}`)).body.stages.map((s: any) => s.stage); return st.includes('injected') && st; });
      for (const s of ['created', 'queued', 'sent', 'hook_received', 'injected']) assert.ok(trace.includes(s), `${s} in ${trace}`);
      // Delivered once: the queue is empty, a live notify is delivered at once.
      const live = await a().post('/api/notify', { to: B.id, text: 'now live' });
      assert.equal(live.status, 200, live.text);
      assert.equal(live.body.status, 'delivered');
      process.kill(hook.pid, 'SIGTERM');
    });

    test('a retired peer\'s hook exits and cannot bring it back; its inbound asks close and the asker is told', async () => {
      const [pa, pb] = [agent('teller'), agent('leaver', { autoAck: false })];
      const [A, B] = [await peerIn(pa), await peerIn(pb)];
      const cid = (await a().post('/api/ask', { from: A.id, to: B.id, text: 'will you stay?' })).body.correlation_id;
      const hookPid = pb.hookPid();
      assert.equal((await a().del(`/api/peers/${B.id}`)).status, 200);
      await until(() => !alive(hookPid), 10_000, 'the retired peer\'s hook exits');
      const ask = (await a().post(`/api/asks/${cid}/wait`, { timeout_ms: 0 })).body;
      assert.equal(ask.close_reason, 'recipient_retired');
      await until(() => pa.screen().includes(`ask ${cid} closed: the recipient retired`), 10_000, 'asker told');
      // A stale inbox connection is refused with 4410 and the peer stays retired.
      const ws = new WebSocket(`${k.baseUrl.replace('http', 'ws')}/api/mesh/ws?peer_id=${B.id}`, { headers: { authorization: `Bearer ${alice.token}` } });
      const code = await new Promise<number>(r => ws.on('close', c => r(c)));
      assert.equal(code, 4410);
      const b = (await a().get(`/api/peers/${B.id}`)).body;
      assert.equal(b.lifecycle, 'retired');
      assert.ok(b.retired_at);
      assert.equal((await a().post('/api/ask', { from: A.id, to: B.id, text: 'x' })).status, 409);
      assert.equal((await a().post('/api/notify', { to: B.id, text: 'x' })).status, 410);
    });

    test('a dead peer is not addressable; a live one without inbox is never reaped', async () => {
      const [pd, pl] = [agent('doomed'), agent('lively')];
      const [D, L] = [await peerIn(pd), await peerIn(pl)];
      process.kill(pd.agentPid(), 'SIGKILL');
      process.kill(pl.hookPid(), 'SIGTERM');
      const d = await until(async () => { const p = (await a().get(`/api/peers/${D.id}`)).body; return p.runtime === 'gone' && p.lifecycle !== 'online' && p; }, 10_000, 'dead peer seen');
      assert.notEqual(d.lifecycle, 'busy');
      const addressable = (await a().get('/api/peers?addressable=true')).body.items.map((p: any) => p.id);
      assert.ok(!addressable.includes(D.id));
      const refused = await a().post('/api/ask', { from: L.id, to: D.id, text: 'are you there?' });
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error.code, 'PLINTH_ERR_MESH_NOT_ADDRESSABLE');
      const doc = (await a().get(`/api/peers/${D.id}/doctor`)).body;
      assert.ok(doc.contradictions.some((c: any) => c.code === 'AGENT_PID_DEAD'), JSON.stringify(doc.contradictions));
      // Many sweeps later (reapAfterMs is 10 min, but the point is the evidence): the live one is offline, alive, not retired.
      await sleep(600);
      const l = (await a().get(`/api/peers/${L.id}`)).body;
      assert.equal(l.lifecycle, 'offline');
      assert.equal(l.runtime, 'alive');
    });

    test('a hook alive but deaf is found by the pings and replaced by rehook; a healthy inbox is left alone', async () => {
      const p = agent('deafy');
      const P = await peerIn(p);
      const healthy = (await a().post(`/api/peers/${P.id}/rehook`, {})).body;
      assert.equal(healthy.healthy_inbox, true);
      assert.deepEqual(healthy.steps, []);
      const hookPid = p.hookPid();
      process.kill(hookPid, 'SIGSTOP');
      try {
        await until(async () => (await a().get(`/api/peers/${P.id}`)).body.inbound === 'degraded' || undefined, 10_000, 'degraded by pings');
        const doc = (await a().get(`/api/peers/${P.id}/doctor`)).body;
        assert.ok(doc.contradictions.some((c: any) => c.code === 'TRANSPORT_STALE'), JSON.stringify(doc.contradictions));
        assert.equal((await a().get(`/api/peers/${P.id}`)).body.inbound, 'degraded', 'doctor is read-only');
        const plan = (await a().post(`/api/peers/${P.id}/rehook`, {})).body;
        assert.equal(plan.healthy_inbox, false);
        assert.equal(plan.pane_proof, true);
        assert.ok(plan.steps.some((s: string) => s.includes(`pid ${hookPid}`)), JSON.stringify(plan));
        assert.equal((await as(bob).post(`/api/peers/${P.id}/rehook`, { apply: true })).status, 404);
        const applied = await a().post(`/api/peers/${P.id}/rehook`, { apply: true });
        assert.equal(applied.status, 200, applied.text);
        assert.equal(applied.body.stopped_hook_pid, hookPid);
        assert.ok(!alive(hookPid), 'the deaf hook is stopped');
        const peer = await until(async () => { const x = (await a().get(`/api/peers/${P.id}`)).body; return x.inbound === 'connected' && x.binding.hook_pid === applied.body.hook_pid && x; }, 10_000, 'the new hook holds the inbox');
        assert.equal(peer.lifecycle, 'online');
        // The replaced inbox delivers, and a healthy one is left alone.
        const sent = await a().post('/api/notify', { to: P.id, text: 'after rehook' });
        assert.equal(sent.body.status, 'delivered', sent.text);
        const again = await a().post(`/api/peers/${P.id}/rehook`, { apply: true });
        assert.equal(again.status, 409, again.text);
        // The new hook's token was minted for it (as alice): revoked when the peer is later retired.
        const hookToken = /(?:^|\0)PLINTH_TOKEN=([^\0]+)/.exec(readFileSync(`/proc/${applied.body.hook_pid}/environ`, 'utf8'))![1];
        assert.equal((await k.request('GET', `/api/peers/${P.id}`, { token: hookToken })).status, 200);
        assert.equal((await a().del(`/api/peers/${P.id}`)).status, 200);
        assert.equal((await k.request('GET', '/api/peers', { token: hookToken })).status, 401);
        assert.equal((await a().get('/api/peers')).status, 200, 'alice\'s own token still works');
      } finally {
        try { process.kill(hookPid, 'SIGCONT'); } catch { /* stopped by the rehook */ }
      }
    });

    test('the mesh tools are in the kernel\'s registry (what /mcp offers) and work as the caller; kill_peer is gated', async () => {
      const names = (await a().get('/api/tools')).body.items.map((t: any) => t.name);
      for (const n of ['ask', 'wait_on_ack', 'ask_many', 'ack', 'notify_peer', 'broadcast', 'list_peers', 'whoami', 'set_description', 'kill_peer']) assert.ok(names.includes(`mesh.${n}`), n);
      const [pa, pb] = [agent('tooler'), agent('tooled')];
      const [A] = [await peerIn(pa), await peerIn(pb)];
      const run = (who: { token: string }, tool: string, body: unknown) => k.request('POST', `/api/plugins/mesh/execute/${tool}`, { token: who.token, body });
      const many = await run(alice, 'ask_many', { from: A.id, to: ['tooled', 'nobody'], text: 'via a tool' });
      assert.equal(many.status, 200, many.text);
      assert.equal(many.body.result.items[0].delivery, 'injected');
      assert.equal(many.body.result.items[1].error.code, 'PLINTH_ERR_NOT_FOUND');
      const cid = many.body.result.items[0].correlation_id;
      const waited = await run(alice, 'wait_on_ack', { correlation_id: cid, timeout_ms: 10_000 });
      assert.equal(waited.body.result.close_reason, 'ack_with_message');
      assert.equal((await run(alice, 'whoami', { pane_id: pa.id })).body.result.id, A.id);
      assert.equal((await run(bob, 'whoami', { pane_id: pa.id })).status, 404);
      const described = await run(alice, 'set_description', { peer_id: A.id, description: 'reviewing the mesh', ttl_ms: 60_000 });
      assert.equal(described.body.result.description, 'reviewing the mesh');
      const bc = await run(alice, 'broadcast', { from: A.id, text: 'hello circle' });
      assert.ok(bc.body.result.items.some((r: any) => r.status === 'injected'), bc.text);
      await until(() => pb.screen().includes('GOT broadcast from=tooler'), 10_000, 'broadcast injected');
      const gated = await run(alice, 'kill_peer', { peer_id: A.id });
      assert.equal(gated.status, 403);
      assert.equal((await a().get(`/api/peers/${A.id}`)).body.lifecycle, 'online');
    });

    test('registration needs live evidence; bad input is refused with a clear error', async () => {
      const socket = tmux.socket;
      const bad = await a().post('/api/peers', { name: 'fake', backend: 'command', binding: { socket, server_started_at: '1', pane_id: '%999', pane_pid: 1, agent_pid: 999999, agent_started_at: '1' } });
      assert.equal(bad.status, 422);
      assert.equal(bad.body.error.code, 'PLINTH_ERR_MESH_NO_EVIDENCE');
      // A live pid with another start time is a reused pid, not the agent; a real pane does not make up for it.
      const pane = tmux.run(['list-panes', '-a', '-F', '#{pane_id}\t#{pane_pid}\t#{start_time}']).trim().split('\n')[0].split('\t');
      const reused = await a().post('/api/peers', { name: 'fake', backend: 'command', binding: { socket, server_started_at: pane[2], pane_id: pane[0], pane_pid: Number(pane[1]), agent_pid: process.pid, agent_started_at: '1' } });
      assert.equal(reused.status, 422, reused.text);
      assert.equal(reused.body.error.details.agent_alive, false);
      assert.equal(reused.body.error.details.pane, 'present');
      assert.equal((await a().post('/api/peers', { name: 'x' })).status, 400);
      assert.equal((await a().post('/api/ask', { from: 'peer_nope', to: 'x', text: 'hi' })).status, 404);
      assert.equal((await a().post('/api/asks/ask_nope/wait', {})).status, 404);
      assert.equal((await a().get('/api/asks/pending')).status, 400);
    });
  });
}
