import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

const APPROVALS = join(__dirname, '..');
const FIXTURE = join(__dirname, 'fixtures', 'gatedfix');
const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function until<T>(fn: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

function plugins(config: Record<string, unknown>) {
  return [{ path: APPROVALS, config: { sweepMs: 50, ...config } }, { path: FIXTURE }];
}

for (const database of dialects) {
  describe(`approvals (${database})`, () => {
    let k: TestKernel;
    let alice: { user: any; token: string };
    let bob: { user: any; token: string };
    before(async () => {
      k = await createTestKernel({ database, plugins: plugins({ timeoutMs: 400 }) });
      alice = await k.createUser();
      bob = await k.createUser();
    });
    after(() => k.stop());

    const call = (token: string, line: string, turnId = 'turn-' + line) =>
      k.request('POST', '/api/gatedfix/call', { token, body: { tool: 'gatedfix.write', turnId, input: { line } } });
    const pendingFor = (token: string, tool = 'gatedfix.write') => until(async () =>
      (await k.request('GET', '/api/approvals?state=pending', { token })).body.items.find((r: any) => r.tool === tool));

    test('approve: the waiting tool call runs; a second decision is a 409; events are published', async () => {
      const seen: string[] = [];
      const off = k.events.subscribe('approval.*', e => { seen.push(`${e.topic}:${e.owner}`); });
      const running = call(alice.token, 'a1');
      const pending = await pendingFor(alice.token);
      assert.equal(pending.requester, alice.user.id);
      assert.deepEqual(pending.input, { line: 'a1' });
      const ok = await k.request('POST', `/api/approvals/${pending.id}/approve`, { token: alice.token, body: {} });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.state, 'approved');
      const res = await running;
      assert.equal(res.status, 200, res.text);
      assert.deepEqual((await k.request('GET', '/api/gatedfix/written', { token: alice.token })).body.lines, ['a1']);
      const again = await k.request('POST', `/api/approvals/${pending.id}/deny`, { token: alice.token, body: { reason: 'late' } });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'PLINTH_ERR_CONFLICT');
      off();
      assert.deepEqual(seen, [`approval.requested:${alice.user.id}`, `approval.resolved:${alice.user.id}`]);
      const audit = await k.request('GET', `/api/audit/tools/turn-a1`, { token: alice.token });
      assert.deepEqual(audit.body.items.map((e: any) => e.decision), ['approved']);
    });

    test('deny with a reason: the call is refused and says why; nothing ran', async () => {
      const running = call(alice.token, 'd1');
      const pending = await pendingFor(alice.token);
      assert.equal((await k.request('POST', `/api/approvals/${pending.id}/deny`, { token: alice.token, body: { reason: 'not today' } })).status, 200);
      const res = await running;
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'PLINTH_ERR_TOOL_DENIED');
      assert.match(res.body.error.message, /not today/);
      assert.ok(!(await k.request('GET', '/api/gatedfix/written', { token: alice.token })).body.lines.includes('d1'));
    });

    test('no decision before the deadline: denied (fail closed), stored as expired', async () => {
      const started = Date.now();
      const res = await call(alice.token, 't1');
      assert.equal(res.status, 403);
      assert.ok(Date.now() - started >= 350, 'waited for the deadline');
      const list = await k.request('GET', '/api/approvals?state=expired', { token: alice.token });
      const r = list.body.items.find((x: any) => x.turnId === 'turn-t1');
      assert.equal(r.state, 'expired');
      assert.equal(r.decidedBy, 'timeout');
      assert.equal((await k.request('POST', `/api/approvals/${r.id}/approve`, { token: alice.token, body: {} })).status, 409);
    });

    test('another user gets 404 for the request and does not see it listed; bad inputs are 400', async () => {
      const running = call(alice.token, 'o1');
      const pending = await pendingFor(alice.token);
      assert.equal((await k.request('GET', `/api/approvals/${pending.id}`, { token: bob.token })).status, 404);
      assert.equal((await k.request('POST', `/api/approvals/${pending.id}/approve`, { token: bob.token, body: {} })).status, 404);
      assert.ok(!(await k.request('GET', '/api/approvals', { token: bob.token })).body.items.some((r: any) => r.id === pending.id));
      assert.equal((await k.request('GET', '/api/approvals?state=maybe', { token: alice.token })).status, 400);
      assert.equal((await k.request('POST', `/api/approvals/${pending.id}/deny`, { token: alice.token, body: { reason: 5 } })).status, 400);
      assert.equal((await k.request('GET', `/api/approvals/${pending.id}`, { token: alice.token })).body.state, 'pending', 'bad input changed nothing');
      assert.equal((await k.request('GET', `/api/approvals/${pending.id}`)).status, 200, 'admins see everything');
      await k.request('POST', `/api/approvals/${pending.id}/approve`, { token: alice.token, body: {} });
      assert.equal((await running).status, 200);
    });

    test('ask-blocking holds the connection until the typed answer arrives', async () => {
      const asked = k.request('POST', '/api/questions/ask-blocking', { token: alice.token, body: { question: 'Which colour?', type: 'choice', choices: ['red', 'blue'], wait_ms: 5000 } });
      const q = await until(async () => (await k.request('GET', '/api/approvals?state=pending&kind=question', { token: alice.token })).body.items[0]);
      const wrong = await k.request('POST', '/api/answer', { token: alice.token, body: { id: q.id, answer: 'green' } });
      assert.equal(wrong.status, 400);
      assert.equal((await k.request('POST', '/api/answer', { token: bob.token, body: { id: q.id, answer: 'red' } })).status, 404);
      assert.equal((await k.request('POST', '/api/answer', { token: alice.token, body: { id: q.id, answer: 'blue' } })).status, 200);
      const res = await asked;
      assert.equal(res.status, 200);
      assert.deepEqual({ state: res.body.state, answer: res.body.answer, answered: res.body.answered }, { state: 'approved', answer: 'blue', answered: true });
      assert.equal((await k.request('POST', '/api/answer', { token: alice.token, body: { id: q.id, answer: 'red' } })).status, 409);
      assert.equal((await k.request('POST', '/api/questions/ask-blocking', { token: alice.token, body: { question: 'x', type: 'choice' } })).status, 400);
    });

    test('an unanswered tool-permission question is denied at the wait cap; a plain one expires', async () => {
      const perm = await k.request('POST', '/api/questions/ask-blocking', { token: alice.token, body: { question: 'May I delete?', tool_permission: true, tool: 'fs.rm', wait_ms: 150 } });
      assert.deepEqual({ state: perm.body.state, answer: perm.body.answer, answered: perm.body.answered }, { state: 'denied', answer: false, answered: false });
      const plain = await k.request('POST', '/api/questions/ask-blocking', { token: alice.token, body: { question: 'Name?', wait_ms: 150 } });
      assert.deepEqual({ state: plain.body.state, answer: plain.body.answer }, { state: 'expired', answer: null });
    });
  });
}

describe('approvals policy and restart', () => {
  test('risk overrides and per-user auto-approve apply, and both are audited per turn', async () => {
    const k = await createTestKernel({ plugins: plugins({ timeoutMs: 2000, riskOverrides: { 'gatedfix.read': 'blocked' }, autoApprove: { 'carol@example.test': ['gatedfix.*'] } }) });
    try {
      const carol = await k.createUser({ email: 'carol@example.test' });
      const dave = await k.createUser();
      const ok = await k.request('POST', '/api/gatedfix/call', { token: carol.token, body: { tool: 'gatedfix.write', turnId: 'T1', input: { line: 'auto' } } });
      assert.equal(ok.status, 200, ok.text);
      const blocked = await k.request('POST', '/api/gatedfix/call', { token: carol.token, body: { tool: 'gatedfix.read', turnId: 'T1' } });
      assert.equal(blocked.status, 403);
      assert.equal(blocked.body.error.code, 'PLINTH_ERR_TOOL_BLOCKED');
      const policy = await k.request('GET', '/api/audit/policy/T1', { token: carol.token });
      assert.deepEqual(policy.body.items.map((e: any) => e.decision), ['auto-approve']);
      const tools = await k.request('GET', '/api/audit/tools/T1', { token: carol.token });
      assert.deepEqual(tools.body.items.map((e: any) => [e.tool, e.decision]), [['gatedfix.write', 'approved']]);
      assert.deepEqual((await k.request('GET', '/api/audit/tools/T1', { token: dave.token })).body.items, [], 'audits are per owner');
      // Dave is not on the list: his call waits for a decision.
      const waiting = k.request('POST', '/api/gatedfix/call', { token: dave.token, body: { tool: 'gatedfix.write', turnId: 'T2', input: { line: 'd' } } });
      const p = await until(async () => (await k.request('GET', '/api/approvals?state=pending', { token: dave.token })).body.items[0]);
      await k.request('POST', `/api/approvals/${p.id}/deny`, { token: dave.token, body: {} });
      assert.equal((await waiting).status, 403);
    } finally {
      await k.stop();
    }
  });

  test('pending requests survive a restart: still listed, decidable, and they expire on time', async () => {
    const a = await createTestKernel({ keepData: true, plugins: plugins({ timeoutMs: 2500 }) });
    const u = await a.createUser({ email: 'erin@example.test', password: 'pw-erin-123456' });
    // The callers go away (as they would in a crash), so the kernel stops without draining them.
    const callers = new AbortController();
    const call = (turnId: string) => fetch(`${a.baseUrl}/api/gatedfix/call`, {
      method: 'POST', signal: callers.signal, headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'gatedfix.write', turnId, input: { line: turnId } }),
    }).catch(() => undefined);
    const first = call('R1');
    const second = call('R2');
    const pending = await until(async () => {
      const items = (await a.request('GET', '/api/approvals?state=pending', { token: u.token })).body.items;
      return items.length === 2 ? items : undefined;
    });
    const createdAt = Date.now();
    callers.abort();
    await a.stop();
    await Promise.allSettled([first, second]);
    const b = await createTestKernel({ dataDir: a.dataDir, plugins: plugins({ timeoutMs: 2500 }) });
    try {
      const listed = (await b.request('GET', '/api/approvals?state=pending')).body.items;
      assert.deepEqual(listed.map((r: any) => r.id).sort(), pending.map((r: any) => r.id).sort());
      const [one, two] = pending;
      const approved = await b.request('POST', `/api/approvals/${one.id}/approve`, { body: { reason: 'after restart' } });
      assert.equal(approved.status, 200, approved.text);
      assert.equal(approved.body.state, 'approved');
      const expired = await until(async () => {
        const r = (await b.request('GET', `/api/approvals/${two.id}`)).body;
        return r.state === 'expired' ? r : undefined;
      }, 5000);
      assert.ok(Date.now() - createdAt >= 2000, 'it expired at its deadline, not at start');
      assert.equal(expired.reason, 'no decision before the deadline (denied: fail closed)');
    } finally {
      await b.stop();
      require('node:fs').rmSync(a.dataDir, { recursive: true, force: true });
    }
  });
});
