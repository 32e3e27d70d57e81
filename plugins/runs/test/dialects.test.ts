import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestKernel } from 'plinth/testing';
import { FIXTURE_AGENTS, PLUGIN, cliAgent, makeRepo, until } from './helpers';

const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

for (const database of dialects) {
  describe(`runs store on ${database}`, () => {
    test('a run, its numbered events, output chunks, paging and delete', async () => {
      const k = await createTestKernel({ database, plugins: [{ path: FIXTURE_AGENTS, config: { agents: [cliAgent('editor', 'edit', ['{task}'])] } }, { path: PLUGIN }] });
      try {
        const p = (await k.request('POST', '/api/projects', { body: { name: 'p' } })).body.id;
        assert.equal((await k.request('POST', `/api/projects/${p}/repos`, { body: { name: 'app', repo_path: makeRepo() } })).status, 201);
        const run = (await k.request('POST', '/api/runs', { body: { agent_id: 'editor', task: 'go', project_id: p } })).body;
        await until(async () => (await k.request('GET', `/api/runs/${run.id}`)).body.status === 'completed', 10_000, 'completion');
        const all = (await k.request('GET', `/api/runs/${run.id}/events`)).body.items;
        assert.deepEqual(all.map((e: any) => e.seq), all.map((_: any, i: number) => i + 1));
        const pageOne = (await k.request('GET', `/api/runs/${run.id}/events?limit=2`)).body;
        assert.equal(pageOne.items.length, 2);
        assert.equal(pageOne.nextCursor, '2');
        const rest = (await k.request('GET', `/api/runs/${run.id}/events?after=2`)).body.items;
        assert.equal(rest[0].seq, 3);
        assert.equal((await k.request('GET', `/api/runs?project_id=${p}`)).body.items.length, 1);
        assert.equal((await k.request('GET', '/api/runs?status=bogus')).status, 400);
        assert.equal((await k.request('DELETE', `/api/runs/${run.id}`)).status, 204);
        assert.equal((await k.request('GET', `/api/runs/${run.id}/events`)).status, 404);
        assert.equal((await k.request('DELETE', `/api/projects/${p}`)).status, 204);
      } finally {
        await k.stop();
      }
    });
  });
}
