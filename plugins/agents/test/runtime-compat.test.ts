/** The agent runtime's and the runner's documented routes in the agents plugin: sessions by name, the models settings document (SQLite, and PostgreSQL when configured). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

let k: TestKernel;
let u: { token: string };

before(async () => {
  k = await createTestKernel({ database: process.env.PLINTH_TEST_POSTGRES_URL ? 'postgres' : 'sqlite', plugins: [{ path: join(__dirname, '..') }] });
  u = await k.createUser();
});
after(() => k?.stop());

test('names list the newest session of each name; replay by name streams the same frames as by id; delete by name', async () => {
  const make = async (name: string, message: string) => {
    const s = (await k.request('POST', '/api/sessions', { token: u.token, body: { agent: 'assistant', name } })).body;
    const m = await k.request('POST', `/api/sessions/${s.id}/messages`, { token: u.token, body: { message } });
    assert.equal(m.status, 200, m.text);
    return s.id as string;
  };
  await make('daily', 'first');
  await new Promise(r => setTimeout(r, 5));
  const newest = await make('daily', 'second');
  const other = await make('notes', 'third');
  const names = await k.request('GET', '/api/sessions/names', { token: u.token });
  assert.deepEqual(names.body.items.map((i: any) => [i.name, i.id]).sort(), [['daily', newest], ['notes', other]]);

  const byId = await k.request('GET', `/api/sessions/${newest}/replay`, { token: u.token });
  const byName = await k.request('GET', '/api/sessions/by-name/daily/replay', { token: u.token });
  assert.deepEqual(byName.body, byId.body);
  const sse = await fetch(`${k.baseUrl}/api/sessions/by-name/daily/replay`, { headers: { authorization: `Bearer ${u.token}`, accept: 'text/event-stream' } });
  assert.match(sse.headers.get('content-type')!, /text\/event-stream/);
  assert.match(await sse.text(), /second/);

  // Another user's names are not visible; unknown names are 404.
  const other2 = await k.createUser();
  assert.deepEqual((await k.request('GET', '/api/sessions/names', { token: other2.token })).body.items, []);
  assert.equal((await k.request('GET', '/api/sessions/by-name/daily/replay', { token: other2.token })).status, 404);
  assert.equal((await k.request('DELETE', '/api/sessions/by-name/daily', { token: other2.token })).status, 404);

  assert.equal((await k.request('DELETE', '/api/sessions/by-name/daily', { token: u.token })).status, 204);
  assert.equal((await k.request('GET', `/api/sessions/${newest}`, { token: u.token })).status, 404);
  // The older "daily" is now the newest of that name.
  assert.equal((await k.request('GET', '/api/sessions/names', { token: u.token })).body.items.find((i: any) => i.name === 'daily').id !== newest, true);
});

test('GET/PUT /api/settings/models: providers and models in one document; keys set by an admin, never answered', async () => {
  const doc = await k.request('GET', '/api/settings/models', { token: u.token });
  assert.equal(doc.status, 200, doc.text);
  assert.equal(doc.body.defaultModel, 'builtin/echo');
  assert.ok(doc.body.models.includes('builtin/echo'));
  assert.ok(doc.body.providers.some((p: any) => p.name === 'builtin'));
  assert.equal((await k.request('PUT', '/api/settings/models', { token: u.token, body: { providers: { openai: { apiKey: 'sk-x' } } } })).status, 403);
  const bad = await k.request('PUT', '/api/settings/models', { token: k.adminToken, body: { providers: { builtin: { apiKey: 'x' } } } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /builtin/);
  const put = await k.request('PUT', '/api/settings/models', { token: k.adminToken, body: { providers: { openai: { apiKey: 'sk-secret-value' } } } });
  assert.equal(put.status, 200, put.text);
  assert.ok(!put.text.includes('sk-secret-value'));
  const openai = (await k.request('GET', '/api/settings/models', { token: u.token })).body.providers.find((p: any) => p.name === 'openai');
  assert.equal(openai?.keyStored, true);
  await k.request('PUT', '/api/settings/models', { token: k.adminToken, body: { providers: { openai: { apiKey: null } } } });
  assert.equal((await k.request('GET', '/api/settings/models', { token: u.token })).body.providers.find((p: any) => p.name === 'openai')?.keyStored, false);
});
