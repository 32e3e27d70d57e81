/**
 * POST /api/sessions/:id/close: a live session's running turn stops (its partial answer stored),
 * its history stays readable, and it takes no more messages (SQLite, and PostgreSQL when configured).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, readSse, type SseFrame, startFakeOpenAi, type FakeOpenAi, type TestKernel } from 'plinth/testing';

const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

async function until<T>(fn: () => Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what} not met in ${ms} ms`);
    await new Promise(r => setTimeout(r, 20));
  }
}

for (const database of dialects) {
  describe(`closing a session (${database})`, () => {
    let k: TestKernel;
    let fake: FakeOpenAi;
    let u: { token: string };
    before(async () => {
      fake = await startFakeOpenAi();
      k = await createTestKernel({ database, plugins: [{ path: join(__dirname, '..'), config: { openai: { baseUrl: fake.baseUrl, model: 'fake-model' } } }, { path: join(__dirname, '..', '..', 'jobs'), config: { pollMs: 100, heartbeatMs: 100, defaultMaxRetries: 0 } }] });
      u = await k.createUser();
    });
    after(async () => { await k?.stop(); await fake?.close(); });

    const session = async () => (await k.request('POST', '/api/sessions', { token: u.token, body: { agent: 'assistant', model: 'openai/fake-model' } })).body.id as string;

    test('closing stops the running turn, keeps the history, refuses new messages; a second close keeps the first time', async () => {
      const id = await session();
      fake.script({ text: ['earlier answer'] });
      assert.equal((await k.request('POST', `/api/sessions/${id}/messages`, { token: u.token, body: { message: 'first' } })).status, 200);
      fake.script({ stall: ['half ', 'an answer'] });
      const ac = new AbortController();
      const res = await fetch(`${k.baseUrl}/api/sessions/${id}/messages`, {
        method: 'POST', signal: ac.signal,
        headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ message: 'second' }),
      });
      // The stream is live: the close below is what ends it, not the client.
      const seen: SseFrame[] = [];
      const frames = readSse(res, f => { seen.push(f); return f.event === 'done' || f.event === 'error'; });
      // Closed once the partial answer has streamed (busy alone can come before the model's first words).
      await until(async () => seen.some(f => f.event === 'chunk' && JSON.stringify(f.data).includes('an answer')), 10_000, 'the answer streaming');

      const other = await k.createUser();
      assert.equal((await k.request('POST', `/api/sessions/${id}/close`, { token: other.token })).status, 404);
      const closed = await k.request('POST', `/api/sessions/${id}/close`, { token: u.token });
      assert.equal(closed.status, 200, closed.text);
      assert.ok(closed.body.closed_at);
      const ended = await frames;
      assert.equal(ended[ended.length - 1].event, 'done');
      assert.equal(ended[ended.length - 1].data.partial, true);
      await until(async () => !(await k.request('GET', `/api/sessions/${id}`, { token: u.token })).body.busy, 5000, 'turn stopped');

      // The history stays: both turns, the cut one marked partial.
      const msgs = (await k.request('GET', `/api/sessions/${id}/messages`, { token: u.token })).body.items;
      assert.deepEqual(msgs.map((m: any) => [m.role, m.content, m.partial]), [['user', 'first', false], ['assistant', 'earlier answer', false], ['user', 'second', false], ['assistant', 'half an answer', true]]);
      assert.equal((await k.request('GET', `/api/sessions/${id}/replay`, { token: u.token })).body.items.filter((f: any) => f.event === 'done').length, 2);
      const got = await k.request('GET', `/api/sessions/${id}`, { token: u.token });
      assert.equal(got.body.closed_at, closed.body.closed_at);

      const refused = await k.request('POST', `/api/sessions/${id}/messages`, { token: u.token, body: { message: 'third' } });
      assert.equal(refused.status, 409);
      assert.match(refused.body.error.message, /was closed at .*start a new session/);
      assert.equal((await k.request('GET', `/api/sessions/${id}/messages`, { token: u.token })).body.items.length, 4, 'nothing was added');
      const again = await k.request('POST', `/api/sessions/${id}/close`, { token: u.token });
      assert.equal(again.body.closed_at, closed.body.closed_at);
      // An open session beside it still answers; an unknown one is 404.
      const open = await session();
      fake.script({ text: ['fine'] });
      assert.equal((await k.request('POST', `/api/sessions/${open}/messages`, { token: u.token, body: { message: 'hi' } })).status, 200);
      assert.equal((await k.request('GET', `/api/sessions/${open}`, { token: u.token })).body.closed_at, null);
      assert.equal((await k.request('POST', '/api/sessions/ses_nope/close', { token: u.token })).status, 404);
    });

    test('a job resuming a closed session begins a new one; the closed one gets nothing', async () => {
      const id = await session();
      fake.script({ text: ['noted'] });
      await k.request('POST', `/api/sessions/${id}/messages`, { token: u.token, body: { message: 'remember this' } });
      await k.request('POST', `/api/sessions/${id}/close`, { token: u.token });
      const job = await k.request('POST', '/api/jobs', { token: u.token, body: { kind: 'agent', continuity: 'resume', request: { agent: 'assistant', message: 'carry on', sessionId: id } } });
      assert.equal(job.status, 201, job.text);
      fake.script({ text: ['carried on'] });
      const done = await until(async () => {
        const d = (await k.request('GET', `/api/jobs/${job.body.id}`, { token: u.token })).body;
        return ['done', 'failed'].includes(d.job.state) ? d.job : undefined;
      }, 10_000, 'the job finished');
      assert.equal(done.state, 'done', done.error);
      assert.notEqual(done.result.sessionId, id);
      assert.equal((await k.request('GET', `/api/sessions/${id}/messages`, { token: u.token })).body.items.length, 2);
    });
  });
}
