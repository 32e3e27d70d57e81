import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel } from 'plinth/testing';

const NOTES = join(__dirname, '..', 'fixtures', 'notes');
const dialects: Array<'sqlite' | 'postgres'> = ['sqlite'];
if (process.env.PLINTH_TEST_POSTGRES_URL) dialects.push('postgres');

for (const database of dialects) {
  describe(`storage on ${database}`, () => {
    test('a plugin namespace persists across restarts and reloads, migrations run once, and the event log replays', async () => {
      const first = await createTestKernel({ plugins: [{ path: NOTES }], database, keepData: true });
      const u = await first.createUser({ email: `persist-${database}@example.test` });
      const created = await first.request('POST', '/api/notes', { token: u.token, body: { text: 'survives a restart' } });
      assert.equal(created.status, 201);
      assert.equal((await first.request('GET', '/api/config/capabilities')).body.database, database);
      assert.equal((await first.request('POST', '/api/plugins/notes/reload')).status, 200);
      assert.equal((await first.request('GET', '/api/notes', { token: u.token })).body.items.length, 1, 'reload re-opens the namespace');
      await first.stop();

      const second = await createTestKernel({ plugins: [{ path: NOTES }], dataDir: first.dataDir, databaseUrl: first.databaseUrl });
      try {
        const token = (await second.users.createToken(u.user.id)).token;
        const list = await second.request('GET', '/api/notes', { token });
        assert.equal(list.status, 200);
        assert.deepEqual(list.body.items.map((n: any) => n.text), ['survives a restart']);
        const replay = await second.events.replay('notes.*', undefined);
        assert.equal(replay.length, 1);
        assert.equal((replay[0].payload as any).text, 'survives a restart');
      } finally {
        await second.stop();
        if (database === 'postgres') await first.stop().catch(() => undefined).then(() => dropDb(first.databaseUrl!));
      }
    });
  });
}

async function dropDb(url: string): Promise<void> {
  const { Client } = require('pg');
  const name = new URL(url).pathname.slice(1);
  const c = new Client({ connectionString: process.env.PLINTH_TEST_POSTGRES_URL });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.end();
}
