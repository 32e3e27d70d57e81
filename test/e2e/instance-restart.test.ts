import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, until, type ServerProcess } from '../helpers/server';

const PLUGINS = join(__dirname, '..', '..', 'plugins');
const TOOLBOX = join(PLUGINS, 'agents', 'test', 'fixtures', 'toolbox');
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

describe('kill -9 of the server with an agent instance running', () => {
  const servers: ServerProcess[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-instance-'));
  after(() => {
    for (const s of servers) s.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the instance runs again after restart, and the item cut off mid-turn is done once the new kernel takes it', async () => {
    const registry = join(dataDir, 'registry.json');
    writeFileSync(registry, JSON.stringify({
      plugins: [
        { id: 'approvals', path: join(PLUGINS, 'approvals') },
        { id: 'toolbox', path: TOOLBOX },
        { id: 'agents', path: join(PLUGINS, 'agents'), config: { instances: { pollMs: 100, leaseMs: 1000 } } },
      ],
    }));
    const env = { PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry, PLINTH_ADMIN_TOKEN: 'plt_instance_test_token_0123456789' };
    const api = (s: ServerProcess) => async (method: string, path: string, body?: unknown) => {
      const res = await fetch(s.baseUrl + path, { method, headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: await res.json().catch(() => undefined) as any };
    };
    const instanceOf = async (call: ReturnType<typeof api>) => (await call('GET', '/api/agents?view=instances')).body.items.find((a: any) => a.name === 'keeper')?.instance;
    const itemOf = async (call: ReturnType<typeof api>, id: string) => (await call('GET', '/api/agents/keeper/queue')).body.items.find((i: any) => i.id === id);
    const pendingOf = (call: ReturnType<typeof api>, not?: string) => until(async () => (await call('GET', '/api/approvals?state=pending')).body?.items?.find((r: any) => r.tool === 'toolbox.launch' && r.id !== not), 10_000, 'approval asked');

    const first = await startServer(env);
    servers.push(first);
    const call1 = api(first);
    assert.equal((await call1('POST', '/api/agents', { name: 'keeper', model: 'builtin/echo', instructions: 'Keep.', allowed_tools: ['toolbox.*'] })).status, 201);
    assert.equal((await call1('POST', '/api/agents/keeper/start')).status, 200);
    const hello = await call1('POST', '/api/agents/keeper/queue', { message: 'before the crash' });
    await until(async () => (await itemOf(call1, hello.body.id))?.state === 'done', 10_000, 'first item done');
    const sessionId = (await instanceOf(call1)).session_id;
    // Mid-turn at the kill: the turn waits for an approval that never comes in this process.
    const cut = await call1('POST', '/api/agents/keeper/queue', { message: '/tool toolbox.launch {"n": 1}' });
    assert.equal(cut.status, 201);
    const lost = await pendingOf(call1);
    assert.equal((await itemOf(call1, cut.body.id)).state, 'running');
    first.kill('SIGKILL');
    await first.exited;

    const second = await startServer(env);
    servers.push(second);
    const call2 = api(second);
    const restored = await until(async () => { const i = await instanceOf(call2); return i?.state === 'idle' || i?.state === 'running' ? i : undefined; }, 10_000, 'instance running again');
    assert.deepEqual([restored.desired, restored.session_id], ['running', sessionId]);
    // The cut-off item was acknowledged (201): the new kernel runs it again; its new approval is granted.
    const pending = await pendingOf(call2, lost.id);
    assert.equal((await call2('POST', `/api/approvals/${pending.id}/approve`, {})).status, 200);
    const redone = await until(async () => { const i = await itemOf(call2, cut.body.id); return i?.state === 'done' ? i : undefined; }, 10_000, 'cut item done').catch(async err => {
      throw new Error(`${err.message}: ${JSON.stringify(await itemOf(call2, cut.body.id))}\n${second.output().slice(-3000)}`);
    });
    assert.equal(redone.attempts, 2);
    assert.match(redone.result, /toolbox\.launch returned \{"launched":1\}/);
    const turns = (await call2('GET', `/api/sessions/${sessionId}/turns`)).body.items.map((t: any) => t.status).sort();
    assert.deepEqual(turns, ['interrupted', 'ok', 'ok']);
    second.kill('SIGTERM');
    await second.exited;
  });
});
