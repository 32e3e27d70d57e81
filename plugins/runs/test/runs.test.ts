import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { FIXTURE_AGENTS, PLUGIN, alive, cliAgent, sleeping, gitIn, makeRepo, openTerminal, readSse, until, REPO_BASE } from './helpers';

const pidDir = mkdtempSync(join(tmpdir(), 'plinth-pids-'));

describe('runs: coding agents in worktrees and PTYs', () => {
  let k: TestKernel;
  let user: { token: string; user: { id: string } };
  let other: { token: string };
  let repo: string;
  let projectId: string;
  const as = (token: string) => ({ token });

  before(async () => {
    k = await createTestKernel({
      plugins: [
        { path: FIXTURE_AGENTS, config: { agents: [
          cliAgent('editor', 'edit', ['{task}']), cliAgent('sleeper', 'sleep', [pidDir]), cliAgent('envy', 'env'),
          cliAgent('crasher', 'fail'), cliAgent('echoer', 'echo'), cliAgent('flood', 'flood', ['2']),
          { id: 'llm-agent', kind: 'llm' },
        ] } },
        { path: PLUGIN, config: { repoRoots: [REPO_BASE] } },
      ],
    });
    user = await k.createUser();
    other = await k.createUser();
    repo = makeRepo();
    projectId = (await k.request('POST', '/api/projects', { body: { name: 'demo' }, ...as(user.token) })).body.id;
    const r = await k.request('POST', `/api/projects/${projectId}/repos`, { body: { name: 'app', repo_path: repo }, ...as(user.token) });
    assert.equal(r.status, 201, r.text);
  });
  after(() => k.stop());

  const start = async (agent: string, extra: Record<string, unknown> = {}) => {
    const r = await k.request('POST', '/api/runs', { body: { agent_id: agent, task: 'do the thing', project_id: projectId, ...extra }, ...as(user.token) });
    assert.equal(r.status, 201, r.text);
    return r.body;
  };
  const settle = (id: string, statuses = ['completed', 'failed', 'cancelled', 'paused'], ms = 10_000) =>
    until(async () => { const r = (await k.request('GET', `/api/runs/${id}`, as(user.token))).body; return statuses.includes(r.status) && r; }, ms, `run ${id} to settle`);

  test('projects and repos: bad repo paths are refused with a reason, other users get 404', async () => {
    const plain = mkdtempSync(join(REPO_BASE, 'plinth-plain-'));
    const bad = await k.request('POST', `/api/projects/${projectId}/repos`, { body: { name: 'x', repo_path: plain }, ...as(user.token) });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /not a git repository: it has no \.git/);
    // Outside repoRoots the answer is the same 403 whether the path exists or not (nothing is looked at first).
    const refused = async (repo_path: string) => (await k.request('POST', `/api/projects/${projectId}/repos`, { body: { name: 'x', repo_path }, ...as(user.token) })).body;
    for (const p of ['/nonexistent/plinth', '/root/.ssh', '/etc']) {
      assert.equal((await refused(p)).error?.code, 'PLINTH_ERR_FORBIDDEN', p);
      assert.equal((await refused(p)).error.message, `repo_path ${p} is outside the folders users may register (repoRoots)`);
    }
    const missing = join(plain, 'missing');
    assert.equal((await k.request('POST', `/api/projects/${projectId}/repos`, { body: { name: 'x', repo_path: missing }, ...as(user.token) })).status, 400);
    // A user may only register repositories under the configured repoRoots (here the temp folder).
    const outside = await k.request('POST', `/api/projects/${projectId}/repos`, { body: { name: 'x', repo_path: makeRepo(tmpdir()) }, ...as(user.token) });
    assert.equal(outside.status, 403);
    assert.match(outside.body.error.message, /outside the folders users may register/);
    assert.equal((await k.request('GET', `/api/projects/${projectId}`, as(other.token))).status, 404);
    assert.equal((await k.request('GET', '/api/projects', as(other.token))).body.items.length, 0);
    const mine = await k.request('GET', `/api/projects/${projectId}`, as(user.token));
    assert.equal(mine.body.repos.length, 1);
  });

  test('bad run requests: unknown agent, llm agent, missing project, bad source branch', async () => {
    const post = (body: unknown) => k.request('POST', '/api/runs', { body, ...as(user.token) });
    assert.equal((await post({ agent_id: 'nobody', task: 't', project_id: projectId })).status, 404);
    assert.equal((await post({ agent_id: 'llm-agent', task: 't', project_id: projectId })).status, 400);
    assert.equal((await post({ agent_id: 'editor', task: 't' })).status, 400);
    assert.equal((await post({ agent_id: 'editor', task: '', project_id: projectId })).status, 400);
    const branch = await post({ agent_id: 'editor', task: 't', project_id: projectId, source_branch: 'no-such-branch' });
    assert.equal(branch.status, 400);
    assert.match(branch.body.error.message, /does not name a commit/);
    assert.equal((await k.request('POST', '/api/runs', { body: { agent_id: 'editor', task: 't', project_id: projectId }, ...as(other.token) })).status, 404);
  });

  test('a run edits files in its worktree; diff, stats, hooks, tasks, result and commit are right', async () => {
    const run = await start('editor');
    assert.match(run.branch, /^plinth\/run-[0-9a-f]{8}$/);
    assert.equal(run.status, 'running');
    const done = await settle(run.id);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.deepEqual(done.result, { sessionId: 'sess-1', inputTokens: 10, outputTokens: 5 });
    assert.equal(done.session_id, 'sess-1');
    // The main checkout is untouched; the worktree has the edits.
    assert.equal(readFileSync(join(repo, 'README.md'), 'utf8'), 'line one\nline two\nline three\n');
    assert.equal(existsSync(join(done.cwd, 'new-file.txt')), true);

    const changes = (await k.request('GET', `/api/runs/${run.id}/changes`, as(user.token))).body.items[0];
    assert.match(changes.diff, /^-line two$/m);
    assert.match(changes.diff, /^\+line 2$/m);
    assert.match(changes.diff, /diff --git a\/new-file.txt b\/new-file.txt\nnew file mode/);
    assert.match(changes.diff, /diff --git a\/old.txt b\/old.txt\ndeleted file mode/);
    const applied = mkdtempSync(join(tmpdir(), 'plinth-apply-'));
    gitIn(applied, 'clone', '-q', repo, '.');
    writeFileSync(join(applied, 'p.diff'), changes.diff);
    gitIn(applied, 'apply', 'p.diff');
    assert.equal(readFileSync(join(applied, 'new-file.txt'), 'utf8'), 'hello from agent\n');
    assert.equal(readFileSync(join(applied, 'README.md'), 'utf8'), 'line one\nline 2\nline three\n');

    const stats = (await k.request('GET', `/api/runs/${run.id}/diff-stats`, as(user.token))).body;
    assert.equal(stats.files, 3);
    assert.equal(stats.additions, 2);
    assert.equal(stats.deletions, 2);

    const events = (await k.request('GET', `/api/runs/${run.id}/events`, as(user.token))).body.items;
    const types = events.map((e: any) => e.type);
    assert.deepEqual(events.map((e: any) => e.seq), events.map((_: any, i: number) => i + 1));
    for (const t of ['run.created', 'run.started', 'agent.tool_call', 'run.result', 'run.completed']) assert.ok(types.includes(t), t);
    assert.ok(types.indexOf('run.completed') > types.indexOf('agent.tool_call'));
    const tasks = (await k.request('GET', `/api/runs/${run.id}/tasks`, as(user.token))).body.items;
    assert.deepEqual(tasks, [{ content: 'edit files', status: 'completed' }]);
    const logs = await k.request('GET', `/api/runs/${run.id}/logs`, as(user.token));
    assert.match(logs.text, /task: do the thing/);

    const commit = await k.request('POST', `/api/runs/${run.id}/commit`, { body: { message: 'agent work' }, ...as(user.token) });
    assert.equal(commit.status, 200, commit.text);
    assert.equal(gitIn(repo, 'log', '-1', '--format=%s', run.branch), 'agent work');
    assert.equal(gitIn(repo, 'show', '--name-only', '--format=', run.branch).split('\n').sort().join(','), 'README.md,new-file.txt,old.txt');
    assert.equal((await k.request('POST', `/api/runs/${run.id}/commit`, { body: { message: 'again' }, ...as(user.token) })).status, 409);

    const branches = (await k.request('GET', `/api/projects/${projectId}/branches`, as(user.token))).body.items;
    const mine = branches.find((b: any) => b.name === run.branch);
    assert.equal(mine.ahead, 1);
    assert.equal(mine.behind, 0);
    assert.equal(mine.run_id, run.id);
    assert.equal(branches.find((b: any) => b.name === 'main').run_id, null);

    // No remote: push, pull-request and accept say so.
    for (const action of ['push', 'pull-request', 'accept']) {
      const r = await k.request('POST', `/api/runs/${run.id}/${action}`, { body: {}, ...as(user.token) });
      assert.equal(r.status, 409, action);
      assert.match(r.body.error.message, /no remote/);
    }
    // With a (bare, local) remote: push and accept work.
    const bare = mkdtempSync(join(tmpdir(), 'plinth-bare-'));
    gitIn(bare, 'init', '-q', '--bare');
    gitIn(repo, 'remote', 'add', 'origin', bare);
    gitIn(repo, 'push', '-q', 'origin', 'main');
    assert.equal((await k.request('POST', `/api/runs/${run.id}/push`, { body: {}, ...as(user.token) })).status, 200);
    assert.equal(gitIn(bare, 'rev-parse', run.branch), gitIn(repo, 'rev-parse', run.branch));
    assert.equal((await k.request('POST', `/api/runs/${run.id}/accept`, { body: {}, ...as(user.token) })).status, 200);
    assert.equal(gitIn(bare, 'rev-parse', 'main'), gitIn(repo, 'rev-parse', run.branch));
    gitIn(repo, 'remote', 'remove', 'origin');

    const rename = await k.request('POST', `/api/runs/${run.id}/rename-branch`, { body: { name: 'feature/agent' }, ...as(user.token) });
    assert.equal(rename.status, 200, rename.text);
    assert.equal((await k.request('POST', `/api/runs/${run.id}/rename-branch`, { body: { name: 'bad..name' }, ...as(user.token) })).status, 400);
    assert.equal((await k.request('GET', `/api/runs/${run.id}`, as(user.token))).body.branch, 'feature/agent');

    writeFileSync(join(done.cwd, 'scratch.txt'), 'x');
    assert.equal((await k.request('POST', `/api/runs/${run.id}/revert`, { body: {}, ...as(user.token) })).status, 200);
    assert.equal((await k.request('GET', `/api/runs/${run.id}/diff-stats`, as(user.token))).body.files, 0);
    assert.equal(existsSync(join(done.cwd, 'scratch.txt')), false);

    assert.equal((await k.request('GET', `/api/runs/${run.id}/changes`, as(other.token))).status, 404);
    assert.equal((await k.request('DELETE', `/api/runs/${run.id}`, as(user.token))).status, 204);
    assert.equal(existsSync(done.cwd), false);
    assert.equal((await k.request('GET', `/api/runs/${run.id}`, as(user.token))).status, 404);
    assert.throws(() => gitIn(repo, 'rev-parse', '--verify', 'feature/agent'));
  });

  test('concurrent fast writers: every byte of output is stored, in order, before run.completed', async () => {
    // The PTY tail used to be lost under load (Linux hangs up the master when the child exits).
    const runs = await Promise.all(Array.from({ length: 8 }, () => start('flood')));
    const lines = Math.round(2 * 1024 * 1024 / 100);
    for (const run of runs) {
      // 16 MiB through eight PTYs on a shared 2-core machine: what is asserted is completeness and
      // order, so the wait is bounded generously (it ran out at 10 s under load).
      assert.equal((await settle(run.id, undefined, 60_000)).status, 'completed');
      const logs = (await k.request('GET', `/api/runs/${run.id}/logs`, as(user.token))).text.split('\r\n');
      assert.equal(logs.pop(), '');
      assert.equal(logs.length, lines);
      logs.forEach((l, i) => { if (!l.startsWith(String(i).padStart(10, '0') + ' ')) assert.fail(`line ${i}: ${l.slice(0, 20)}`); });
      const types = (await k.request('GET', `/api/runs/${run.id}/events?limit=5000`, as(user.token))).body.items.map((e: any) => e.type);
      assert.equal(types[types.length - 1], 'run.completed');
    }
  });

  test('the CLI gets a minimal environment, never the kernel\'s', async () => {
    process.env.PLINTH_SECRET_FOR_TEST = 'do-not-leak';
    const run = await start('envy');
    await settle(run.id);
    const logs = (await k.request('GET', `/api/runs/${run.id}/logs`, as(user.token))).text;
    const names = logs.split(/\r?\n/).map(l => l.split('=')[0]).filter(Boolean).sort();
    assert.ok(!logs.includes('do-not-leak'));
    for (const n of ['HOME', 'PATH', 'PLINTH_HOOK_URL', 'PLINTH_RUN_ID', 'PLINTH_RUN_TOKEN', 'TERM']) assert.ok(names.includes(n), n);
    assert.ok(!names.includes('PLINTH_SECRET_FOR_TEST'));
    delete process.env.PLINTH_SECRET_FOR_TEST;
  });

  test('the hook route answers 401 to a wrong or missing token and stores nothing', async () => {
    const run = await start('crasher');
    await settle(run.id);
    const before = (await k.request('GET', `/api/runs/${run.id}/events`, as(user.token))).body.items.length;
    const body = { type: 'agent.needs_attention', message: 'hi' };
    assert.equal((await k.request('POST', `/api/runs/${run.id}/hook`, { body, token: 'wrong' })).status, 401);
    assert.equal((await k.request('POST', `/api/runs/${run.id}/hook`, { body, token: null })).status, 401);
    assert.equal((await k.request('POST', `/api/runs/${run.id}/hook`, { body, token: user.token })).status, 401);
    assert.equal((await k.request('POST', `/api/runs/nope/hook`, { body, token: 'wrong' })).status, 401);
    assert.equal((await k.request('GET', `/api/runs/${run.id}/events`, as(user.token))).body.items.length, before);
  });

  test('a crashing CLI fails the run with its exit code and last output', async () => {
    const run = await start('crasher');
    const done = await settle(run.id);
    assert.equal(done.status, 'failed');
    assert.equal(done.exit_code, 3);
    const events = (await k.request('GET', `/api/runs/${run.id}/events?type=run.failed`, as(user.token))).body.items;
    assert.match(events[0].data.last_output, /something broke/);
  });

  test('cancel kills the whole process tree', async () => {
    const run = await start('sleeper');
    const child = await until(() => existsSync(join(run.cwd, '.child-marker')) && readFileSync(join(run.cwd, '.child-marker'), 'utf8').trim(), 5000, 'child marker');
    const started = (await k.request('GET', `/api/runs/${run.id}/events`, as(user.token))).body.items.find((e: any) => e.type === 'run.started');
    const leader = Number(started.data.pid);
    assert.ok(sleeping(child) && alive(leader));
    assert.equal((await k.request('DELETE', `/api/runs/${run.id}`, as(user.token))).status, 409);
    const r = await k.request('POST', `/api/runs/${run.id}/cancel`, as(user.token));
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'cancelled');
    await until(() => !sleeping(child) && !alive(leader), 3000, 'the tree to die');
    assert.equal((await k.request('POST', `/api/runs/${run.id}/cancel`, as(user.token))).status, 409);
  });

  test('pause checkpoints uncommitted work; continue resumes in the recreated worktree with the message', async () => {
    const run = await start('sleeper');
    await until(async () => (await k.request('GET', `/api/runs/${run.id}/logs`, as(user.token))).text.includes('ready'), 5000, 'ready');
    const child = readFileSync(join(run.cwd, '.child-marker'), 'utf8').trim();
    assert.ok(sleeping(child));
    const paused = await k.request('POST', `/api/runs/${run.id}/pause`, as(user.token));
    assert.equal(paused.status, 200, paused.text);
    assert.equal(paused.body.status, 'paused');
    await until(() => !sleeping(child), 3000, 'child to die');
    assert.equal(gitIn(repo, 'log', '-1', '--format=%s', run.branch), 'plinth: checkpoint on pause');
    assert.equal(gitIn(repo, 'show', `${run.branch}:wip.txt`), 'work in progress');
    assert.equal((await k.request('POST', `/api/runs/${run.id}/pause`, as(user.token))).status, 409);

    // Worktree lost meanwhile: continue recreates it from the branch.
    execFileSync('rm', ['-rf', paused.body.cwd]);
    const cont = await k.request('POST', `/api/runs/${run.id}/continue`, { body: { message: 'carry on' }, ...as(user.token) });
    assert.equal(cont.status, 200, cont.text);
    assert.equal(cont.body.status, 'running');
    assert.equal(readFileSync(join(paused.body.cwd, 'wip.txt'), 'utf8'), 'work in progress\n');
    await until(async () => (await k.request('GET', `/api/runs/${run.id}/logs`, as(user.token))).text.includes('message: carry on'), 5000, 'continued output');
    assert.equal((await k.request('POST', `/api/runs/${run.id}/continue`, { body: {}, ...as(user.token) })).status, 409);
    const types = (await k.request('GET', `/api/runs/${run.id}/events`, as(user.token))).body.items.map((e: any) => e.type);
    assert.ok(types.includes('run.paused') && types.includes('user.message'));
    assert.equal((await k.request('POST', `/api/runs/${run.id}/cancel`, as(user.token))).body.status, 'cancelled');
  });

  test('SSE replays after last_event_id, then goes live, in order', async () => {
    const run = await start('echoer');
    const url = `${k.baseUrl}/api/runs/${run.id}/events/stream`;
    const first = await readSse(url, user.token, f => f.some(x => x.event === 'terminal.output' && JSON.stringify(x.data).includes('ready')));
    assert.equal(first[0].id, '1');
    assert.equal(first[0].event, 'run.created');
    const cut = Number(first[1].id);
    const live = readSse(`${url}?last_event_id=${cut}`, user.token, f => f.some(x => x.event === 'run.completed'));
    await new Promise(r => setTimeout(r, 200));
    const term = await openTerminal(k.baseUrl.replace('http', 'ws') + `/api/terminal?run_id=${run.id}`, { authorization: `Bearer ${user.token}` });
    await term.wait(f => f.type === 'ready');
    term.ws.send(JSON.stringify({ type: 'input', data: 'quit\r' }));
    const frames = await live;
    assert.equal(Number(frames[0].id), cut + 1);
    const ids = frames.map(f => Number(f.id));
    assert.deepEqual(ids, ids.map((_, i) => cut + 1 + i));
    assert.equal(frames[frames.length - 1].event, 'run.completed');
    term.ws.close();
  });

  test('terminal WS: input, output, resize, several viewers; other users and non-admin shells refused', async () => {
    const run = await start('echoer');
    const url = k.baseUrl.replace('http', 'ws') + `/api/terminal?run_id=${run.id}`;
    const a = await openTerminal(url, { authorization: `Bearer ${user.token}` });
    const b = await openTerminal(url, { authorization: `Bearer ${user.token}` });
    await a.wait(f => f.type === 'ready');
    await b.wait(f => f.type === 'ready');
    a.ws.send(JSON.stringify({ type: 'resize', cols: 100, rows: 30 }));
    a.ws.send(JSON.stringify({ type: 'input', data: 'hello-pty\r' }));
    const seen = (t: typeof a) => t.wait(() => t.frames.filter(f => f.type === 'output').map(f => f.data).join('').includes('got:hello-pty'));
    await seen(a); await seen(b);
    a.ws.send('not json');
    await a.wait(f => f.type === 'error');
    const o = await openTerminal(url, { authorization: `Bearer ${other.token}` });
    await o.wait(f => f.type === 'error');
    const shell = await openTerminal(k.baseUrl.replace('http', 'ws') + '/api/terminal', { authorization: `Bearer ${user.token}` });
    await shell.wait(f => f.type === 'error' && /admins only/.test(f.message));
    await assert.rejects(openTerminal(url, {}), /401/);
    await assert.rejects(openTerminal(url, { authorization: `Bearer ${user.token}`, origin: 'https://evil.example' }), /403/);
    b.ws.send(JSON.stringify({ type: 'input', data: 'quit\r' }));
    await a.wait(f => f.type === 'exit');
    assert.equal((await settle(run.id)).status, 'completed');
  });

  test('an admin shell is shared by its viewers and killed when the last one leaves', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'plinth-shell-'));
    const url = k.baseUrl.replace('http', 'ws') + `/api/terminal?cwd=${encodeURIComponent(cwd)}`;
    const a = await openTerminal(url, { authorization: `Bearer ${k.adminToken}` });
    const ready = await a.wait(f => f.type === 'ready');
    const b = await openTerminal(k.baseUrl.replace('http', 'ws') + `/api/terminal?shell_id=${ready.shell_id}`, { authorization: `Bearer ${k.adminToken}` });
    await b.wait(f => f.type === 'ready');
    a.ws.send(JSON.stringify({ type: 'input', data: 'pwd; echo marker-$((40+2))\r' }));
    await b.wait(() => b.frames.filter(f => f.type === 'output').map(f => f.data).join('').includes('marker-42'));
    assert.ok(b.frames.map(f => f.data ?? '').join('').includes(cwd));
    assert.ok(alive(ready.pid));
    a.ws.close();
    await new Promise(r => setTimeout(r, 200));
    assert.ok(alive(ready.pid));
    b.ws.close();
    await until(() => !alive(ready.pid), 3000, 'shell to die');
  });

  test('merge and rebase: conflicts answer 409 and leave the repo clean; clean merges work', async () => {
    const r2 = makeRepo();
    const p = (await k.request('POST', '/api/projects', { body: { name: 'm' }, ...as(user.token) })).body.id;
    const repoId = (await k.request('POST', `/api/projects/${p}/repos`, { body: { name: 'r', repo_path: r2 }, ...as(user.token) })).body.id;
    gitIn(r2, 'checkout', '-q', '-b', 'a');
    writeFileSync(join(r2, 'README.md'), 'A\n'); gitIn(r2, 'commit', '-qam', 'a');
    gitIn(r2, 'checkout', '-q', 'main');
    gitIn(r2, 'checkout', '-q', '-b', 'b');
    writeFileSync(join(r2, 'README.md'), 'B\n'); gitIn(r2, 'commit', '-qam', 'b');
    gitIn(r2, 'checkout', '-q', '-b', 'c', 'main');
    writeFileSync(join(r2, 'other.txt'), 'C\n'); gitIn(r2, 'add', '-A'); gitIn(r2, 'commit', '-qm', 'c');
    gitIn(r2, 'checkout', '-q', 'main');
    const mainBefore = gitIn(r2, 'rev-parse', 'main');
    const aBefore = gitIn(r2, 'rev-parse', 'a');

    const conflict = await k.request('POST', `/api/projects/${p}/branches/merge`, { body: { repo_id: repoId, branch: 'b', into: 'a' }, ...as(user.token) });
    assert.equal(conflict.status, 409);
    assert.deepEqual(conflict.body.error.details.conflicts, ['README.md']);
    assert.equal(gitIn(r2, 'rev-parse', 'a'), aBefore);
    const rebase = await k.request('POST', `/api/projects/${p}/branches/rebase`, { body: { repo_id: repoId, branch: 'a', onto: 'b' }, ...as(user.token) });
    assert.equal(rebase.status, 409);
    assert.equal(gitIn(r2, 'rev-parse', 'a'), aBefore);
    assert.equal(gitIn(r2, 'status', '--porcelain'), '');
    assert.equal(gitIn(r2, 'worktree', 'list').split('\n').length, 1);

    const merged = await k.request('POST', `/api/projects/${p}/branches/merge`, { body: { repo_id: repoId, branch: 'c', into: 'main' }, ...as(user.token) });
    assert.equal(merged.status, 200, merged.text);
    assert.notEqual(gitIn(r2, 'rev-parse', 'main'), mainBefore);
    assert.equal(readFileSync(join(r2, 'other.txt'), 'utf8'), 'C\n');
    const rb = await k.request('POST', `/api/projects/${p}/branches/rebase`, { body: { repo_id: repoId, branch: 'a', onto: 'c' }, ...as(user.token) });
    assert.equal(rb.status, 200, rb.text);
    assert.equal(gitIn(r2, 'rev-parse', 'a~1'), gitIn(r2, 'rev-parse', 'c'));
    assert.equal((await k.request('POST', `/api/projects/${p}/branches/merge`, { body: { repo_id: repoId, branch: 'nope', into: 'main' }, ...as(user.token) })).status, 404);
    assert.equal((await k.request('DELETE', `/api/projects/${p}/branches?repo_id=${repoId}&branch=b`, as(user.token))).status, 204);
    assert.throws(() => gitIn(r2, 'rev-parse', '--verify', 'b'));
  });
});

describe('runs: without an agent runtime, and across a restart', () => {
  test('starting a run answers 503 when no agents plugin is active; a restart fails runs left running', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'plinth-runs-restart-'));
    const repo = makeRepo();
    let k = await createTestKernel({ dataDir, keepData: true, plugins: [{ path: FIXTURE_AGENTS, config: { agents: [cliAgent('sleeper', 'sleep', [pidDir])] } }, { path: PLUGIN }] });
    const projectId = (await k.request('POST', '/api/projects', { body: { name: 'p' } })).body.id;
    await k.request('POST', `/api/projects/${projectId}/repos`, { body: { name: 'app', repo_path: repo } });
    const run = (await k.request('POST', '/api/runs', { body: { agent_id: 'sleeper', task: 't', project_id: projectId } })).body;
    assert.equal(run.status, 'running');
    // Simulate a crash: the row stays `running` while the process is gone.
    const table = 'runs_runs';
    await k.stop();
    const sqlite3 = require('sqlite3');
    const file = require('node:fs').readdirSync(dataDir).find((f: string) => f.endsWith('.sqlite') || f.endsWith('.db'));
    await new Promise<void>((res, rej) => {
      const db = new sqlite3.Database(join(dataDir, file));
      db.run(`UPDATE ${table} SET status = 'running' WHERE id = ?`, [run.id], (err: any) => { db.close(); err ? rej(err) : res(); });
    });
    k = await createTestKernel({ dataDir, plugins: [{ path: PLUGIN }] });
    try {
      const after = (await k.request('GET', `/api/runs/${run.id}`)).body;
      assert.equal(after.status, 'failed');
      assert.match(after.error, /continue it to resume/);
      const r = await k.request('POST', '/api/runs', { body: { agent_id: 'sleeper', task: 't', project_id: projectId } });
      assert.equal(r.status, 503);
      assert.match(r.body.error.message, /agents plugin/);
    } finally {
      await k.stop();
    }
  });
});

describe('runs: the admins\' terminal in the process sandbox (terminalSandbox)', () => {
  test('sandboxed, the shell writes its cwd but cannot see the data dir or the kernel; unsandboxed it can', async () => {
    const look = async (k: TestKernel) => {
      const cwd = mkdtempSync(join(tmpdir(), 'plinth-shell-'));
      const t = await openTerminal(k.baseUrl.replace('http', 'ws') + `/api/terminal?cwd=${encodeURIComponent(cwd)}`, { authorization: `Bearer ${k.adminToken}` });
      await t.wait(f => f.type === 'ready');
      const cmd = `(cat ${k.registryPath} >/dev/null 2>&1 && echo DATA-LISTED) || echo DATA-HIDDEN; `
        + `(kill -0 ${process.pid} 2>/dev/null && echo KERNEL-SEEN) || echo KERNEL-UNSEEN; echo hi > mine.txt; echo done-$((40+2))\r`;
      t.ws.send(JSON.stringify({ type: 'input', data: cmd }));
      await t.wait(() => t.frames.filter(f => f.type === 'output').map(f => f.data).join('').includes('done-42'));
      const out = t.frames.filter(f => f.type === 'output').map(f => f.data).join('').split('\n').filter(l => !l.includes('echo')).join('\n');
      t.ws.close();
      return { out, wrote: existsSync(join(cwd, 'mine.txt')) };
    };
    const boxed = await createTestKernel({ plugins: [{ path: PLUGIN, config: { terminalSandbox: true } }] });
    const open = await createTestKernel({ plugins: [{ path: PLUGIN }] });
    try {
      const b = await look(boxed);
      assert.ok(b.out.includes('DATA-HIDDEN') && b.out.includes('KERNEL-UNSEEN') && b.wrote, b.out);
      const o = await look(open);
      assert.ok(o.out.includes('DATA-LISTED') && o.out.includes('KERNEL-SEEN') && o.wrote, o.out);
    } finally {
      await boxed.stop();
      await open.stop();
    }
  });
});
