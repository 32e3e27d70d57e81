/**
 * POST /api/sessions/backfill-nicknames: a short nickname per session, asked of the model (a
 * scripted OpenAI-compatible server) from the session's first messages (SQLite, and PostgreSQL
 * when configured).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, startFakeOpenAi, type FakeOpenAi, type TestKernel } from 'plinth/testing';
import { toNickname } from '../src/session-nicknames';

const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

test('a model\'s answer becomes a nickname: first line, no quotes or full stop, at most 60 characters', () => {
  assert.equal(toNickname('  "Login bug fix."\nBecause the user asked…'), 'Login bug fix');
  assert.equal(toNickname('\n\n'), '');
  assert.equal(toNickname('x'.repeat(80)).length, 60);
});

for (const database of dialects) {
  describe(`session nicknames (${database})`, () => {
    let k: TestKernel;
    let fake: FakeOpenAi;
    let u: { token: string };
    let other: { token: string };
    before(async () => {
      fake = await startFakeOpenAi();
      k = await createTestKernel({ database, plugins: [{ path: join(__dirname, '..'), config: { openai: { baseUrl: fake.baseUrl, model: 'fake-model' } } }] });
      u = await k.createUser();
      other = await k.createUser();
    });
    after(async () => { await k?.stop(); await fake?.close(); });

    // The sessions themselves talk to builtin/echo, so the fake answers only the nickname calls.
    const session = async (token: string, message?: string) => {
      const s = (await k.request('POST', '/api/sessions', { token, body: { agent: 'assistant', model: 'builtin/echo' } })).body;
      if (message) assert.equal((await k.request('POST', `/api/sessions/${s.id}/messages`, { token, body: { message } })).status, 200);
      return s.id as string;
    };
    const backfill = (body: unknown, token = u.token) => k.request('POST', '/api/sessions/backfill-nicknames', { token, body });
    const nicknameOf = async (id: string, token = u.token) => (await k.request('GET', `/api/sessions/${id}`, { token })).body.nickname;

    test('your sessions without one get a nickname from their first messages; an empty one is skipped; force names again; others\' are untouched', async () => {
      const login = await session(u.token, 'the login form rejects valid passwords, please fix it');
      const offsite = await session(u.token, 'help me plan the team offsite in May');
      const empty = await session(u.token);
      const hers = await session(other.token, 'something private');
      const calls = fake.requests.length;
      fake.script({ text: ['"Login bug fix."\n'] }, { text: ['Offsite planning'] });
      const r = await backfill({ model: 'openai/fake-model' });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.updated, [{ id: login, nickname: 'Login bug fix' }, { id: offsite, nickname: 'Offsite planning' }]);
      assert.deepEqual([r.body.model, r.body.skipped, r.body.failed, r.body.remaining], ['openai/fake-model', 1, [], 1]);
      // The model saw the instruction and the session's first message.
      const asked = fake.requests[calls];
      assert.equal(asked.messages[0].role, 'system');
      assert.match(asked.messages[1].content, /login form rejects/);
      assert.equal(await nicknameOf(login), 'Login bug fix');
      assert.equal(await nicknameOf(empty), null);
      assert.equal(await nicknameOf(hers, other.token), null);
      // The calls are the caller's spend, like any other.
      const ledger = (await k.request('GET', '/api/stats/transactions', { token: u.token })).body.items;
      assert.equal(ledger.filter((t: any) => t.via === 'api:nickname').length, 2);

      const again = await backfill({ model: 'openai/fake-model' });
      assert.deepEqual([again.body.updated, again.body.skipped], [[], 1]);
      fake.script({ text: ['Password check'] });
      const forced = await backfill({ model: 'openai/fake-model', force: true, limit: 1 });
      assert.deepEqual(forced.body.updated, [{ id: login, nickname: 'Password check' }]);
    });

    test('a failing model is reported per session and nothing is named; bad input is refused', async () => {
      const id = await session(u.token, 'a fresh topic');
      fake.script({ status: 400, message: 'bad request' });
      const r = await backfill({ model: 'openai/fake-model', limit: 100 });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.failed.length, 1);
      assert.equal(r.body.failed[0].id, id);
      assert.equal(await nicknameOf(id), null);
      assert.equal((await backfill({ limit: 0 })).status, 400);
      assert.equal((await backfill({ nope: true })).status, 400);
      const unknown = await backfill({ model: 'nope/model' });
      assert.equal(unknown.status, 404);
      assert.match(unknown.body.error.message, /nope/);
      assert.equal((await k.request('POST', '/api/sessions/backfill-nicknames', { body: {} , token: null })).status, 401);
    });
  });
}
