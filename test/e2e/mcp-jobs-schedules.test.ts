/**
 * The jobs and schedules plugins' tools (the peer daemon's job_* and schedule_* tools, issue 19)
 * through the kernel's registry, called over /mcp with the MCP SDK Client as their users.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createTestKernel, mockServices, waitFor, type TestKernel } from 'plinth/testing';
import { dialects, plugin } from './helpers';

for (const database of dialects) {
  describe(`jobs.* and schedules.* over MCP (${database})`, () => {
    let k: TestKernel;
    let user: { token: string; user: { id: string } };
    const clients: Client[] = [];
    const open = async (token: string) => {
      const transport = new StreamableHTTPClientTransport(new URL('/mcp', k.baseUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
      const client = new Client({ name: 'e2e', version: '1.0.0' });
      await client.connect(transport);
      clients.push(client);
      return client;
    };
    /** A tool's structured answer, or its error text when the call was refused. */
    const call = async (c: Client, name: string, args: Record<string, unknown>) => {
      const r: any = await c.callTool({ name, arguments: args });
      return r.isError ? { error: String(r.content[0].text) } : r.structuredContent;
    };
    before(async () => {
      k = await createTestKernel({
        database,
        plugins: [plugin('jobs', { pollMs: 100, heartbeatMs: 100, leaseMs: 2000 }), plugin('schedules', { pollMs: 100 }), plugin('mcp')],
        // A reviewer who refuses schedules named "refused" and approves the rest.
        services: [mockServices.toolPolicy({ decide: ({ input }) => ((input as any).name === 'refused' ? { approved: false, reason: 'not that one' } : { approved: true }) })],
      });
      user = await k.createUser();
    });
    after(async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await k.stop();
    });

    test('the tools are listed; schedule changes are marked as waiting for approval', async () => {
      const tools = (await (await open(user.token)).listTools()).tools;
      const names = tools.map(t => t.name);
      for (const n of ['jobs.create', 'jobs.list', 'jobs.status', 'jobs.result', 'jobs.cancel', 'jobs.comment', 'jobs.block', 'schedules.create', 'schedules.list', 'schedules.delete']) assert.ok(names.includes(n), n);
      assert.equal(tools.find(t => t.name === 'schedules.create')!.annotations?.destructiveHint, true);
      assert.equal(tools.find(t => t.name === 'jobs.list')!.annotations, undefined);
    });

    test('a job is created, runs, and its status and result are read; a held one is cancelled once', async () => {
      const admin = await open(k.adminToken);
      const job = await call(admin, 'jobs.create', { kind: 'command', request: { command: 'echo from-mcp' }, title: 'echo' });
      assert.equal(job.kind, 'command');
      const done = await waitFor(async () => { const s = await call(admin, 'jobs.status', { job_id: job.id }); return s.state === 'done' ? s : undefined; }, 'job done', 15_000);
      assert.equal(done.attempts, 1);
      const result = await call(admin, 'jobs.result', { job_id: job.id });
      assert.equal(result.result.exitCode, 0);
      assert.match(result.result.output, /from-mcp/);

      const held = await call(admin, 'jobs.create', { kind: 'command', request: { command: 'true' }, delay_ms: 600_000 });
      assert.equal((await call(admin, 'jobs.cancel', { job_id: held.id })).state, 'cancelled');
      assert.match((await call(admin, 'jobs.cancel', { job_id: held.id })).error, /PLINTH_ERR_CONFLICT.*cancelled/);
      const listed = await call(admin, 'jobs.list', { mine: true });
      assert.deepEqual(listed.items.map((j: any) => j.id).sort(), [job.id, held.id].sort());
      assert.equal(listed.items[0].request, undefined, 'the list is in summary form');

      const note = await call(admin, 'jobs.comment', { job_id: job.id, text: 'checked the output' });
      assert.equal(note.text, 'checked the output');
      const detail = (await k.request('GET', `/api/jobs/${job.id}`)).body;
      assert.deepEqual(detail.comments.map((c: any) => c.text), ['checked the output']);
    });

    test('a user acts as itself: another user\'s job is not found, command jobs stay admin-only, bad input changes nothing', async () => {
      const admin = await open(k.adminToken);
      const theirs = await call(admin, 'jobs.create', { kind: 'command', request: { command: 'true' }, delay_ms: 600_000 });
      const c = await open(user.token);
      assert.match((await call(c, 'jobs.status', { job_id: theirs.id })).error, /PLINTH_ERR_NOT_FOUND/);
      assert.match((await call(c, 'jobs.cancel', { job_id: theirs.id })).error, /PLINTH_ERR_NOT_FOUND/);
      assert.match((await call(c, 'jobs.create', { kind: 'command', request: { command: 'id' } })).error, /PLINTH_ERR_FORBIDDEN.*admins/);
      assert.match((await call(c, 'jobs.create', { request: {} })).error, /PLINTH_ERR_TOOL_INPUT/);
      assert.match((await call(c, 'jobs.status', {})).error, /needs a job/);
      assert.deepEqual((await call(c, 'jobs.list', {})).items, []);
      assert.equal((await call(admin, 'jobs.status', { job_id: theirs.id })).state, theirs.state, 'untouched by the refused cancel');
    });

    test('a schedule made by a tool fires jobs until a tool deletes it; a refused one is never made', async () => {
      const admin = await open(k.adminToken);
      const refused = await call(admin, 'schedules.create', { name: 'refused', cron: '* * * * * *', job: { kind: 'command', request: { command: 'true' } } });
      assert.match(refused.error, /PLINTH_ERR_TOOL_DENIED.*not that one/);
      assert.match((await call(admin, 'schedules.create', { name: 'both', at: new Date(Date.now() + 60_000).toISOString(), cron: '* * * * *', job: { kind: 'command' } })).error, /PLINTH_ERR_TOOL_INPUT/);
      assert.deepEqual((await call(admin, 'schedules.list', { mine: true })).items, []);

      const s = await call(admin, 'schedules.create', { name: 'every second', cron: '* * * * * *', job: { kind: 'command', request: { command: 'echo tick' } } });
      assert.ok(s.id && s.nextRunAt, JSON.stringify(s));
      assert.deepEqual((await call(admin, 'schedules.list', { mine: true })).items.map((x: any) => x.id), [s.id]);
      await waitFor(async () => (await k.request('GET', `/api/schedules/${s.id}/jobs`)).body.items.length >= 1 || undefined, 'a fire', 10_000);

      const c = await open(user.token);
      assert.match((await call(c, 'schedules.delete', { schedule_id: s.id })).error, /PLINTH_ERR_NOT_FOUND/);
      assert.deepEqual(await call(admin, 'schedules.delete', { schedule_id: s.id }), { id: s.id, deleted: true });
      assert.equal((await k.request('GET', `/api/schedules/${s.id}`)).status, 404);
      assert.match((await call(admin, 'schedules.delete', { schedule_id: s.id })).error, /PLINTH_ERR_NOT_FOUND/);
    });
  });
}
