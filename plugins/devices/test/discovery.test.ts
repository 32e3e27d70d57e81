import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

const PLUGINS = join(__dirname, '..', '..');
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function until<T>(fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(100);
  }
}

/**
 * Two kernels on this machine find each other over mDNS. The loopback interface here has no
 * MULTICAST flag, so bonjour-service joins the group on the default interface and the kernel's
 * multicast loop delivers each kernel's packets to the other; the cards are served on 127.0.0.1.
 */
describe('local-network discovery (mDNS _a2a._tcp)', () => {
  const kernels: TestKernel[] = [];
  const start = (name: string | undefined, enabled: boolean) => createTestKernel({
    egressAllow: ['127.0.0.1'],
    plugins: [
      { path: join(PLUGINS, 'agents') },
      { path: join(PLUGINS, 'a2a'), config: { name: `Kernel ${name ?? 'quiet'}` } },
      { path: join(PLUGINS, 'devices'), config: { discovery: { enabled, ...(name ? { name } : {}) } } },
    ],
  });
  const suffix = Math.random().toString(36).slice(2, 8);
  const [A, B, C] = [`alpha-${suffix}`, `beta-${suffix}`, `gamma-${suffix}`];
  let a: TestKernel;
  let b: TestKernel;
  before(async () => {
    a = await start(A, true);
    b = await start(B, true);
    kernels.push(a, b, await start(C, false));
  });
  after(() => Promise.all(kernels.map(k => k.stop())));

  const found = async (k: TestKernel, name: string) => ((await k.request('GET', '/api/runtime/discovery')).body.items as any[]).find(i => i.name === name);

  test('each kernel hears the other with its agent card URL; one with discovery off is not announced', async () => {
    const bAtA = await until(() => found(a, B));
    assert.equal(bAtA.cardUrl, `${b.baseUrl}/.well-known/agent-card.json`);
    assert.equal(bAtA.port, Number(new URL(b.baseUrl).port));
    assert.match(bAtA.id, /^lan_[0-9a-f]{16}$/);
    const aAtB = await until(() => found(b, A));
    assert.equal(aAtB.cardUrl, `${a.baseUrl}/.well-known/agent-card.json`);
    const self = (await a.request('GET', '/api/runtime/discovery')).body;
    assert.equal(self.announcedAs, A);
    assert.ok(!self.items.some((i: any) => i.name === A), 'a kernel does not list itself');
    await sleep(1000);
    assert.equal(await found(a, C), undefined);
    const quiet = (await kernels[2].request('GET', '/api/runtime/discovery')).body;
    assert.deepEqual([quiet.enabled, quiet.announcedAs, quiet.items], [false, null, []]);
  });

  test('verify fetches and checks the card through the egress policy, then the agent is the user\'s A2A peer', async () => {
    const u = await a.createUser();
    const bAtA = await until(() => found(a, B));
    const r = await a.request('POST', `/api/runtime/discovery/${bAtA.id}/verify`, { token: u.token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.card.name, `Kernel ${B}`);
    assert.equal(r.body.peer.name, B);
    assert.equal(r.body.peer.cardUrl, bAtA.cardUrl);
    const peers = (await a.request('GET', '/api/a2a/peers', { token: u.token })).body.items;
    assert.deepEqual(peers.map((p: any) => [p.name, p.agentName]), [[B, `Kernel ${B}`]]);
    const other = await a.createUser();
    assert.deepEqual((await a.request('GET', '/api/a2a/peers', { token: other.token })).body.items, [], 'the peer is the verifying user\'s');
    const unknown = await a.request('POST', '/api/runtime/discovery/lan_0000000000000000/verify', { token: u.token });
    assert.equal(unknown.status, 404);
    const bad = await a.request('POST', '/api/runtime/discovery/nope/verify', { token: u.token });
    assert.equal(bad.status, 400);
  });
});
