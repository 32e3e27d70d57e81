import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { NGINX, startKernelCluster, until, type KernelCluster } from '../helpers/cluster';
import { FIXTURE_AGENTS, REPO_BASE, cliAgent, makeRepo, openTerminal, readSse } from '../../plugins/runs/test/helpers';

const ROOT = join(__dirname, '..', '..');
const PG = process.env.PLINTH_TEST_POSTGRES_URL;
const skip = !PG ? 'PLINTH_TEST_POSTGRES_URL not set' : !NGINX ? 'nginx is not installed (.ci/run installs it)' : false;

/**
 * A run's PTY lives on the kernel that started it; its terminal socket, live stream and actions
 * reach it from any kernel, through nginx (round-robin, no stickiness) or directly.
 */
describe('runs pinned to their kernel behind a round-robin balancer', { skip }, () => {
  let cluster: KernelCluster;
  let projectId = '';
  let nodes: string[] = [];
  const api = async (base: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${cluster.adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, body: json, text, node: res.headers.get('x-plinth-node'), servedBy: res.headers.get('x-plinth-forwarded-to') };
  };
  const startRun = async (kernel: number) => {
    const r = await api(cluster.kernels[kernel].baseUrl, 'POST', '/api/runs', { agent_id: 'echoer', task: 'echo', project_id: projectId });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.status, 'running');
    return r.body;
  };
  const wsUrl = (base: string, runId: string) => base.replace('http', 'ws') + `/api/terminal?run_id=${runId}`;

  before(async () => {
    cluster = await startKernelCluster({
      postgresUrl: PG!,
      plugins: () => [
        { id: 'agents', path: FIXTURE_AGENTS, config: { agents: [cliAgent('echoer', 'echo')] } },
        { id: 'runs', path: join(ROOT, 'plugins', 'runs'), config: { repoRoots: [REPO_BASE] } },
      ],
    });
    nodes = await Promise.all(cluster.kernels.map(async k => (await api(k.baseUrl, 'GET', '/api/health')).node!));
    projectId = (await api(cluster.lb, 'POST', '/api/projects', { name: 'cluster' })).body.id;
    const repo = await api(cluster.lb, 'POST', `/api/projects/${projectId}/repos`, { name: 'app', repo_path: makeRepo() });
    assert.equal(repo.status, 201, repo.text);
  });

  after(() => cluster?.stop());

  test('a terminal socket on another kernel, and through the balancer, types into the run', async () => {
    const run = await startRun(0);
    // Directly on kernel B: certainly not the owner.
    const b = await openTerminal(wsUrl(cluster.kernels[1].baseUrl, run.id), { authorization: `Bearer ${cluster.adminToken}` });
    const ready = await b.wait(f => f.type === 'ready', 10_000);
    assert.equal(ready.run_id, run.id);
    b.ws.send(JSON.stringify({ type: 'input', data: 'via-b\r' }));
    const output = (t: typeof b) => t.frames.filter(f => f.type === 'output').map(f => f.data).join('');
    await b.wait(() => output(b).includes('got:via-b'), 10_000);
    // Through nginx: three sockets land on the three kernels in turn, each reaches the PTY.
    const viaLb = await Promise.all([0, 1, 2].map(() => openTerminal(wsUrl(cluster.lb, run.id), { authorization: `Bearer ${cluster.adminToken}` })));
    for (const [i, t] of viaLb.entries()) {
      await t.wait(f => f.type === 'ready', 10_000);
      t.ws.send(JSON.stringify({ type: 'input', data: `lb-${i}\r` }));
    }
    for (const [i, t] of viaLb.entries()) await t.wait(() => output(t).includes(`got:lb-${i}`), 10_000);
    assert.ok(output(b).includes('got:lb-2'), 'every viewer sees the one PTY');
    // A browser's single-use ticket from kernel B: B joins the owner's socket with a stand-in token
    // of the same user, revoked once joined.
    const tokensBefore = (await api(cluster.lb, 'GET', '/api/tokens')).body.items.length;
    const ticket = (await api(cluster.kernels[1].baseUrl, 'POST', '/api/ws/ticket')).body.ticket;
    const browser = await openTerminal(wsUrl(cluster.kernels[1].baseUrl, run.id) + `&ticket=${ticket}`, {});
    await browser.wait(f => f.type === 'ready', 10_000);
    browser.ws.send(JSON.stringify({ type: 'input', data: 'by-ticket\r' }));
    await browser.wait(() => output(browser).includes('got:by-ticket'), 10_000);
    await until(async () => (await api(cluster.lb, 'GET', '/api/tokens')).body.items.length === tokensBefore, 5000, 'the stand-in token revoked');
    browser.ws.close();
    // Another user's run is not found, wherever the socket lands (checked before any relay).
    const user = await api(cluster.lb, 'POST', '/api/users', { email: `runs-${Date.now()}@example.test` });
    const tok = await api(cluster.lb, 'POST', `/api/users/${user.body.user.id}/tokens`, {});
    const stranger = await openTerminal(wsUrl(cluster.kernels[1].baseUrl, run.id), { authorization: `Bearer ${tok.body.token}` });
    await stranger.wait(f => f.type === 'error' && /not found/.test(f.message), 10_000);
    b.ws.send(JSON.stringify({ type: 'input', data: 'quit\r' }));
    await b.wait(f => f.type === 'exit', 10_000);
    await until(async () => (await api(cluster.lb, 'GET', `/api/runs/${run.id}`)).body.status === 'completed', 10_000, 'run completed');
    for (const t of [b, stranger, ...viaLb]) t.ws.close();
  });

  test('actions and the live stream reaching another kernel are served by the run\'s own', async () => {
    const run = await startRun(0);
    const stream = readSse(`${cluster.kernels[2].baseUrl}/api/runs/${run.id}/events/stream`, cluster.adminToken,
      f => f.some(x => x.event === 'run.cancelled'), 15_000);
    const input = await api(cluster.kernels[1].baseUrl, 'POST', `/api/runs/${run.id}/input`, { message: 'typed-on-b' });
    assert.equal(input.status, 200, input.text);
    assert.equal(input.node, nodes[1]);
    assert.equal(input.servedBy, nodes[0]);
    await until(async () => (await api(cluster.lb, 'GET', `/api/runs/${run.id}/logs`)).text.includes('got:typed-on-b'), 10_000, 'the typed line');
    // Bad input is refused as on the owner, and nothing is typed.
    const bad = await api(cluster.kernels[1].baseUrl, 'POST', `/api/runs/${run.id}/input`, { message: 42 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'PLINTH_ERR_VALIDATION');
    const cancelled = await api(cluster.kernels[2].baseUrl, 'POST', `/api/runs/${run.id}/cancel`);
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.body.status, 'cancelled');
    assert.equal(cancelled.servedBy, nodes[0]);
    const frames = await stream;
    const events = frames.map(f => f.event);
    assert.ok(events.includes('user.message') && events.at(-1) === 'run.cancelled', events.join());
    const ids = frames.map(f => Number(f.id));
    assert.deepEqual(ids, ids.map((_, i) => ids[0] + i), 'in order, none missing');
    // A run that is not running anywhere is answered where the request lands.
    const again = await api(cluster.kernels[1].baseUrl, 'POST', `/api/runs/${run.id}/cancel`);
    assert.equal(again.status, 409);
    assert.equal(again.servedBy, null);
  });

  test('a kernel that dies: its run answers 503 until its heartbeat lapses, then is failed (resumable)', async () => {
    const run = await startRun(2);
    await cluster.kill(2);
    const early = await api(cluster.kernels[0].baseUrl, 'POST', `/api/runs/${run.id}/input`, { message: 'anyone?' });
    assert.equal(early.status, 503, early.text);
    assert.match(early.body.error.message, new RegExp(`runs on kernel node ${nodes[2]}, which does not answer`));
    // Lapse (3 missed 5 s beats) plus one sweep.
    const failed = await until(async () => {
      const r = await api(cluster.lb, 'GET', `/api/runs/${run.id}`);
      // The status and its reason are two writes: wait for both.
      return r.body.status === 'failed' && r.body.error && r.body;
    }, 40_000, 'the dead node\'s run failed');
    assert.match(failed.error, /continue it to resume/);
    const events = (await api(cluster.lb, 'GET', `/api/runs/${run.id}/events?type=run.failed`)).body.items;
    assert.equal(events.length, 1, 'one kernel marked it');
    assert.equal(events[0].data.resumable, true);
    const term = await openTerminal(wsUrl(cluster.lb, run.id), { authorization: `Bearer ${cluster.adminToken}` });
    await term.wait(f => f.type === 'error' && /is failed: no terminal/.test(f.message), 10_000);
    term.ws.close();
  });
});
