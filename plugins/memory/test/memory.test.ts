import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import type { User } from 'plinth/sdk';
import { memoryRef } from 'plinth/contracts/memory';

const PLUGIN = join(__dirname, '..');
const dialects: Array<'sqlite' | 'postgres'> = ['sqlite'];
if (process.env.PLINTH_TEST_POSTGRES_URL) dialects.push('postgres');

for (const database of dialects) {
  describe(`memory on ${database}`, () => {
    let k: TestKernel;
    let ada: { user: User; token: string };
    let bob: { user: User; token: string };
    const as = (who: { token: string }) => ({ get: (p: string) => k.request('GET', p, { token: who.token }),
      post: (p: string, body: unknown) => k.request('POST', p, { token: who.token, body }),
      del: (p: string) => k.request('DELETE', p, { token: who.token }) });

    before(async () => {
      k = await createTestKernel({ plugins: [{ path: PLUGIN, config: { maxWorking: 3 } }], database });
      ada = await k.createUser();
      bob = await k.createUser();
    });
    after(() => k?.stop());

    test('working memory is per session, bounded, newest first, and clears', async () => {
      const a = as(ada);
      for (const n of [1, 2, 3, 4, 5]) assert.equal((await a.post('/api/memory/working/s1', { text: `note number ${n}` })).status, 201);
      assert.equal((await a.post('/api/memory/working', { session_id: 's2', text: 'other session' })).status, 201);
      const s1 = await a.get('/api/memory/working/s1');
      assert.deepEqual(s1.body.items.map((e: any) => e.text), ['note number 5', 'note number 4', 'note number 3'], 'the two oldest were evicted');
      assert.equal((await a.get('/api/memory/working')).body.items.length, 4);
      assert.equal((await as(bob).get('/api/memory/working/s1')).body.items.length, 0, "another user's session is invisible");
      assert.equal((await as(bob).del('/api/memory/working/s1')).status, 404, "and cannot be cleared by them");
      assert.equal((await a.get('/api/memory/working/s1')).body.items.length, 3);
      assert.deepEqual((await a.del('/api/memory/working/s1')).body, { deleted: 3 });
      assert.equal((await a.get('/api/memory/working/s1')).body.items.length, 0);
      assert.equal((await a.post('/api/memory/working', { text: 'no session' })).status, 400);
    });

    test('episodic memory pages by cursor and filters by a time range', async () => {
      const a = as(ada);
      for (const day of [1, 2, 3, 4, 5]) {
        const r = await a.post('/api/memory/episodic', { text: `event on day ${day}`, occurred_at: `2024-01-0${day}T10:00:00.000Z` });
        assert.equal(r.status, 201);
      }
      const first = await a.get('/api/memory/episodic?limit=2');
      assert.equal(first.body.items.length, 2);
      assert.ok(first.body.nextCursor);
      const second = await a.get(`/api/memory/episodic?limit=2&cursor=${first.body.nextCursor}`);
      assert.deepEqual(second.body.items.map((e: any) => e.text), ['event on day 3', 'event on day 2']);
      const ranged = await a.get('/api/memory/episodic?from=2024-01-02T00:00:00Z&to=2024-01-04T00:00:00Z');
      assert.deepEqual(ranged.body.items.map((e: any) => e.text).sort(), ['event on day 2', 'event on day 3']);
      assert.equal((await a.get('/api/memory/episodic?cursor=zzz')).status, 400);
      assert.equal((await a.get('/api/memory/episodic?from=yesterday')).status, 400);
      assert.equal((await a.get('/api/memory/episodic?limit=0')).status, 400);
    });

    test('semantic facts: one per category and key, categories, delete; the index follows every change', async () => {
      const a = as(ada);
      assert.equal((await a.post('/api/memory/semantic', { category: 'prefs', key: 'editor', value: 'Ada uses vim daily', confidence: 0.6 })).status, 201);
      const replaced = await a.post('/api/memory/semantic/prefs', { key: 'editor', value: 'Ada switched to emacs', confidence: 0.9 });
      assert.equal(replaced.status, 201);
      assert.equal((await a.post('/api/memory/semantic', { category: 'people', key: 'manager', value: 'Grace' })).status, 201);
      const prefs = await a.get('/api/memory/semantic/prefs');
      assert.equal(prefs.body.items.length, 1);
      assert.equal(prefs.body.items[0].text, 'Ada switched to emacs');
      assert.equal(prefs.body.items[0].confidence, 0.9);
      assert.deepEqual((await a.get('/api/memory/semantic/categories')).body.items, [{ category: 'people', count: 1 }, { category: 'prefs', count: 1 }]);
      assert.equal((await a.get('/api/memory/search?q=vim')).body.items.length, 0, 'the replaced text left the index');
      assert.equal((await a.get('/api/memory/search?q=emacs')).body.items.length, 1);
      assert.equal((await a.post('/api/memory/semantic', { category: 'prefs', value: 'no key' })).status, 400);
      assert.equal((await a.post('/api/memory/semantic', { category: 'prefs', key: 'x', value: 'y', confidence: 2 })).status, 400);
      assert.equal((await as(bob).del('/api/memory/semantic/people/manager')).status, 404);
      assert.deepEqual((await a.del('/api/memory/semantic/people/manager')).body, { deleted: 1 });
      assert.equal((await a.get('/api/memory/search?q=Grace')).body.items.length, 0, 'a deleted fact left the index');
      assert.equal((await a.del('/api/memory/semantic/people')).status, 404);
    });

    test('search ranks, highlights, filters, and never fails on plain words', async () => {
      const b = as(bob);
      await b.post('/api/memory/semantic', { category: 'infra', key: 'db', value: 'database replicas, database backups nightly' });
      await b.post('/api/memory/episodic', { text: 'Restarted the database after a disk alert' });
      await b.post('/api/memory/episodic', { text: 'Lunch with the team, no incidents' });
      await b.post('/api/memory/working/chat1', { text: "database migration draft: don't forget indexes" });
      const r = await b.get('/api/memory/search?q=database');
      assert.equal(r.status, 200);
      assert.equal(r.body.items.length, 3);
      assert.equal(r.body.items[0].key, 'db', 'two mentions rank first');
      assert.ok(r.body.items.every((h: any) => /<mark>database<\/mark>/i.test(h.snippet)), JSON.stringify(r.body.items.map((h: any) => h.snippet)));
      assert.ok(r.body.items[0].score >= r.body.items[1].score);
      assert.deepEqual((await b.get('/api/memory/search?q=database&kind=episodic')).body.items.map((h: any) => h.text), ['Restarted the database after a disk alert']);
      assert.equal((await b.get('/api/memory/search?q=database&category=infra')).body.items.length, 1);
      assert.equal((await b.get('/api/memory/search?q=database&session_id=chat1')).body.items.length, 1);
      assert.equal((await b.get('/api/memory/search?q=database%20disk')).body.items.length, 1, 'every word must match');
      assert.equal((await b.get('/api/memory/search?q=datab*')).body.items.length, 3, 'a trailing * is a prefix');
      for (const q of ['"unterminated', 'database AND', 'OR OR (', 'col:database', "don't", 'NEAR(', '***', '-database', "'; DROP TABLE x; --"]) {
        const res = await b.get(`/api/memory/search?q=${encodeURIComponent(q)}`);
        assert.equal(res.status, 200, `${q} → ${res.text}`);
      }
      // Each database tokenizes its way: FTS5 keeps `don`, PostgreSQL's english parser drops `don` and `t` as stop words.
      assert.equal((await b.get(`/api/memory/search?q=${encodeURIComponent("don't")}`)).body.items.length, database === 'sqlite' ? 1 : 0);
      assert.equal((await as(ada).get('/api/memory/search?q=database')).body.items.length, 0, "bob's memory is not ada's");
      assert.equal((await k.request('GET', '/api/memory/search?q=database')).body.items.length, 3, 'admins see everyone');
      assert.equal((await b.get('/api/memory/search')).status, 400);
      assert.equal((await b.get('/api/memory/search?q=x&kind=dream')).status, 400);
    });

    test('raw query syntax passes through, and a syntax error is a clear 400 that changes nothing', async () => {
      const b = as(bob);
      const or = database === 'sqlite' ? 'lunch OR disk' : 'lunch | disk';
      assert.equal((await b.get(`/api/memory/search?raw=true&q=${encodeURIComponent(or)}`)).body.items.length, 2);
      for (const bad of database === 'sqlite' ? ['"unterminated', 'database AND', 'NEAR(', 'nocolumn:x'] : ['database &', '(lunch', '&|']) {
        const res = await b.get(`/api/memory/search?raw=true&q=${encodeURIComponent(bad)}`);
        assert.equal(res.status, 400, `${bad} → ${res.text}`);
        assert.equal(res.body.error.code, 'PLINTH_ERR_SEARCH_SYNTAX');
        assert.match(res.body.error.message, /invalid full-text query.*Plain words always work/);
      }
      assert.equal((await b.get('/api/memory/search?q=database')).body.items.length, 3);
    });

    test('entries by id answer 404 to other users, and delete only for the owner', async () => {
      const made = await as(ada).post('/api/memory/episodic', { text: 'a private diary line' });
      const id = made.body.id;
      assert.equal((await as(bob).get(`/api/memory/entries/${id}`)).status, 404);
      assert.equal((await as(bob).del(`/api/memory/entries/${id}`)).status, 404);
      assert.equal((await as(ada).get(`/api/memory/entries/${id}`)).body.text, 'a private diary line');
      assert.equal((await k.request('GET', `/api/memory/entries/${id}`)).status, 200, 'an admin sees it');
      assert.equal((await as(ada).del(`/api/memory/episodic/${id}`)).status, 200);
      assert.equal((await as(ada).get(`/api/memory/entries/${id}`)).status, 404);
      assert.equal((await as(ada).get('/api/memory/search?q=diary')).body.items.length, 0);
      assert.equal((await k.request('GET', '/api/memory/working', { token: null })).status, 401);
    });

    test('episodes are recorded from owned bus events, once per event, and system events are skipped', async () => {
      const carol = await k.createUser();
      await k.events.publish('agent.turn.completed', { agent: 'helper', sessionId: 'sess-9', message: 'book a flight to Lisbon', text: 'Booked TAP 123' }, { owner: carol.user.id });
      await k.events.publish('agent.tool.called', { name: 'travel.book', input: { to: 'LIS' }, ok: true, output: { ref: 'XYZ' } }, { owner: carol.user.id });
      await k.events.publish('job.completed', { id: 'job_1', kind: 'report', title: 'weekly report', result: { pages: 3 } }, { owner: carol.user.id });
      await k.events.publish('job.failed', { id: 'job_2', kind: 'sync', error: 'timeout' }, { owner: null });
      const items = await waitFor(async () => {
        const r = await as(carol).get('/api/memory/episodic');
        return r.body.items.length >= 3 ? r.body.items : undefined;
      });
      const texts = items.map((e: any) => e.text);
      assert.ok(texts.some((t: string) => /Turn with helper\. User: book a flight to Lisbon Answer: Booked TAP 123/.test(t)), texts.join('\n'));
      assert.ok(texts.some((t: string) => /Tool travel\.book called with \{"to":"LIS"\}; returned \{"ref":"XYZ"\}/.test(t)));
      assert.ok(texts.some((t: string) => /Job weekly report \(job_1\) completed: \{"pages":3\}/.test(t)));
      assert.equal(items.find((e: any) => e.topic === 'agent.turn.completed').session_id, 'sess-9');
      assert.equal((await as(carol).get('/api/memory/search?q=Lisbon')).body.items.length, 1);
      const all = await k.request('GET', '/api/memory/search?q=timeout');
      assert.equal(all.body.items.length, 0, 'an event without an owner is nobody\'s memory');
    });

    test('tools search, remember and forget as the calling user', async () => {
      const dan = await k.createUser();
      const exec = (tool: string, body: unknown, who = dan) => k.request('POST', `/api/plugins/memory/execute/${tool}`, { token: who.token, body });
      const remembered = await exec('remember', { category: 'pets', key: 'cat', text: 'Dan has a cat named Miso' });
      assert.equal(remembered.status, 200, remembered.text);
      const id = remembered.body.result.id;
      assert.equal((await exec('remember', { text: 'no category' })).status, 400, 'a fact needs its category and key');
      assert.equal((await exec('remember', { kind: 'working', text: 'scratch' })).status, 400, 'working memory needs a session');
      const found = await exec('search', { query: 'miso' });
      assert.equal(found.body.result.length, 1);
      assert.equal(found.body.result[0].id, id);
      assert.equal((await exec('search', { query: 'miso' }, ada)).body.result.length, 0);
      assert.equal((await exec('forget', { id }, ada)).status, 404, 'nobody forgets what is not theirs');
      assert.deepEqual((await exec('forget', { id })).body.result, { deleted: 1 });
      assert.equal((await exec('search', { query: 'miso' })).body.result.length, 0);
      assert.equal((await exec('search', {})).status, 400);
    });

    test('the memoryRef service recalls relevant items for the agent loop, with any word, working memory only from the session', async () => {
      const svc = k.service(memoryRef)!;
      const erin = await k.createUser();
      await svc.remember({ user: erin.user, kind: 'semantic', category: 'prefs', key: 'language', text: 'Erin prefers answers in Portuguese' });
      await svc.remember({ user: erin.user, kind: 'working', sessionId: 'a', text: 'Portuguese draft for session a' });
      await svc.remember({ user: erin.user, kind: 'working', sessionId: 'b', text: 'Portuguese draft for session b' });
      await svc.remember({ user: erin.user, kind: 'episodic', text: 'Erin asked about the weather' });
      const hits = await svc.relevant({ user: erin.user, sessionId: 'a', query: 'Which language should answers use? Portuguese?' });
      const texts = hits.map(h => h.text);
      assert.ok(texts.includes('prefs/language: Erin prefers answers in Portuguese'), texts.join('\n'));
      assert.ok(texts.includes('Portuguese draft for session a'));
      assert.ok(!texts.includes('Portuguese draft for session b'));
      assert.deepEqual(await svc.relevant({ user: ada.user, query: 'Portuguese' }), []);
      assert.deepEqual(await svc.relevant({ user: erin.user, query: '?!' }), []);
      await assert.rejects(svc.remember({ user: erin.user, kind: 'semantic', text: 'no key' }), /category and a key/);
    });
  });
}

async function waitFor<T>(fn: () => Promise<T | undefined>, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise(r => setTimeout(r, 25));
  }
}
