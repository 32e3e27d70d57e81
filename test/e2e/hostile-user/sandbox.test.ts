/**
 * Issue 12 §2: a child process the platform starts for a user must not see the kernel. The
 * reproduction was a non-admin's run (and command job) printing PLINTH_ADMIN_TOKEN from
 * /proc/$PPID/environ. Each refusal below is checked next to the same command unsandboxed (an
 * admin's opt-out, `sandbox: "off"`), where it does see those things, so no check is vacuous.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from 'plinth/testing';
import { ROOT, plugin } from '../helpers';

interface Kernel {
  baseUrl: string; adminToken: string; dataDir: string;
  request(method: string, path: string, o?: { token?: string; body?: unknown }): Promise<{ status: number; body: any; text: string }>;
}

const REPO_BASE = mkdtempSync(join(tmpdir(), 'plinth-hostile-repos-'));
const OUTSIDE = mkdtempSync(join(tmpdir(), 'plinth-hostile-outside-'));
const PEEK = join(__dirname, 'fixtures', 'peek-server.js');
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, {
  cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
}).trim();

function makeRepo(): string {
  const dir = mkdtempSync(join(REPO_BASE, 'repo-'));
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'README.md'), 'hello\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'first');
  return dir;
}

const listen = (server: Server | ReturnType<typeof createTcpServer>) =>
  new Promise<number>(resolve => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

/**
 * What the hostile user runs: the kernel's environment through /proc/$PPID, the data dir, a write
 * outside its folder, raw TCP to PostgreSQL's port and to a local TCP server, and HTTP to an allowed
 * host (a local server standing in for it) and to one not allowed.
 */
function probe(p: { dataDir: string; tcpPort: number; allowedPort: number; deniedPort: number }): string {
  const tcp = (port: number) => `node -e 'require("net").connect(${port},"127.0.0.1").on("connect",()=>{console.log("TCP-${port}-OPEN");process.exit(0)}).on("error",e=>{console.log("TCP-${port}-"+e.code);process.exit(0)})'`;
  return [
    `echo ENV-BEGIN; tr '\\0' '\\n' < /proc/$PPID/environ; echo ENV-END`,
    `cat ${p.dataDir}/secret.txt || echo DATA-HIDDEN`,
    `(echo x > ${OUTSIDE}/written-$$ && echo OUTSIDE-WRITTEN) || echo OUTSIDE-REFUSED`,
    tcp(5432), tcp(p.tcpPort),
    `echo ALLOWED:$(curl -sS -m 5 --noproxy '' http://127.0.0.1:${p.allowedPort}/allowed 2>&1)`,
    `echo DENIED:$(curl -sS -m 5 --noproxy '' http://127.0.0.1:${p.deniedPort}/denied 2>&1)`,
    'true',
  ].join('; ');
}

describe('hostile user: runs, command jobs and stdio MCP servers in the process sandbox', () => {
  let web: Server; let other: Server; let tcp: ReturnType<typeof createTcpServer>;
  const ports = { tcpPort: 0, allowedPort: 0, deniedPort: 0 };
  const children: ChildProcess[] = [];

  before(async () => {
    web = createHttpServer((_q, s) => s.end('reached-the-allowed-host'));
    other = createHttpServer((_q, s) => s.end('reached-a-denied-host'));
    tcp = createTcpServer(sock => sock.end());
    ports.allowedPort = await listen(web);
    ports.deniedPort = await listen(other);
    ports.tcpPort = await listen(tcp);
  });
  after(async () => {
    await Promise.all(children.map(c => new Promise(resolve => { c.once('exit', resolve); c.kill('SIGTERM'); })));
    web.close(); other.close(); tcp.close();
  });

  /**
   * A kernel as `npm start` runs it (a process of its own, the admin token in its environment, so
   * that /proc/<kernel>/environ holds it as in the report): runs with repoRoots, user commands allowed.
   */
  async function start(mode: 'auto' | 'off', env: Record<string, string> = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'plinth-hostile-'));
    const dataDir = join(dir, 'data');
    const registry = join(dir, 'registry.json');
    writeFileSync(registry, JSON.stringify({ plugins: [
      { id: 'accounts', ...plugin('accounts'), enabled: true, config: {} },
      { id: 'agents', ...plugin('agents'), enabled: true, config: {} },
      { id: 'runs', ...plugin('runs'), enabled: true, config: { repoRoots: [REPO_BASE], sandbox: mode } },
      { id: 'jobs', ...plugin('jobs'), enabled: true, config: { allowUserCommands: true, sandbox: mode, allowedHosts: [`127.0.0.1:${ports.allowedPort}`] } },
      // A stdio MCP server an admin configured: sandboxed unless the admin says `sandbox: false`;
      // it may read the checkout (its script and the MCP SDK).
      { id: 'mcp', ...plugin('mcp'), enabled: true, config: { mcpServers: { peek: {
        command: process.execPath, args: [PEEK, join(dataDir, 'secret.txt'), join(OUTSIDE, `mcp-${mode}`)], risk: 'safe', readable: [ROOT], sandbox: mode !== 'off',
      } } } },
    ] }));
    const adminToken = 'plt_hostile_' + randomBytes(16).toString('hex');
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'plinth.js'), 'start'], {
      env: { ...process.env, PLINTH_ADMIN_TOKEN: adminToken, PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry, PLINTH_PORT: '0', PLINTH_WATCH: '0', PLINTH_LOG_STDOUT: '0', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', d => { out += d; });
    const baseUrl = await waitFor(() => /listening on (http:\/\/\S+)/.exec(out)?.[1], 'the kernel to listen', 20_000);
    const request = async (method: string, path: string, o: { token?: string; body?: unknown } = {}) => {
      const res = await fetch(baseUrl + path, {
        method, headers: { authorization: `Bearer ${o.token ?? adminToken}`, ...(o.body ? { 'content-type': 'application/json' } : {}) },
        body: o.body ? JSON.stringify(o.body) : undefined,
      });
      const text = await res.text();
      let body: any; try { body = JSON.parse(text); } catch { body = undefined; }
      return { status: res.status, body, text };
    };
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'secret.txt'), 'DATA-DIR-SECRET\n');
    const u = await request('POST', '/api/users', { body: { email: `u${children.length}@example.test`, role: 'user' } });
    const t = await request('POST', `/api/users/${u.body.user.id}/tokens`, { body: { name: 't' } });
    const k: Kernel = { baseUrl, adminToken, dataDir, request };
    return { k, user: { token: t.body.token as string } };
  }

  /** What the stdio MCP server saw, through its tool. */
  async function mcpLook(k: Kernel): Promise<{ environ: string; secret: string; write: string }> {
    await waitFor(async () => ((await k.request('GET', '/api/runtime/mcp')).body.items as any[]).find(c => c.name === 'peek' && c.state === 'connected'), 'the MCP server to connect', 20_000);
    const r = await k.request('POST', '/api/plugins/mcp/execute/peek.look', { body: {} });
    assert.equal(r.status, 200, r.text);
    return JSON.parse(r.body.result.content[0].text);
  }

  async function jobOutput(k: Kernel, token: string, command: string): Promise<string> {
    const r = await k.request('POST', '/api/jobs', { token, body: { kind: 'command', request: { command } } });
    assert.equal(r.status, 201, r.text);
    const done = await waitFor(async () => {
      const d = (await k.request('GET', `/api/jobs/${r.body.id}`, { token })).body;
      return ['done', 'failed'].includes(d?.job?.state) && d;
    }, 'the job to finish', 20_000);
    assert.equal(done.job.state, 'done', JSON.stringify(done.job.error));
    // The whole log (the result keeps only the last lines).
    const stream = await fetch(`${k.baseUrl}/api/jobs/${r.body.id}/stream`, { headers: { authorization: `Bearer ${token}` } });
    return (await stream.text()).split('\n\n').filter(f => f.includes('event: log')).map(f => JSON.parse(/data: (.*)/.exec(f)![1]).line).join('\n');
  }

  async function runOutput(k: Kernel, token: string, agent: string, repo: string): Promise<{ run: any; text: string }> {
    const project = (await k.request('POST', '/api/projects', { token, body: { name: 'p' } })).body;
    const added = await k.request('POST', `/api/projects/${project.id}/repos`, { token, body: { name: 'app', repo_path: repo } });
    assert.equal(added.status, 201, added.text);
    const r = await k.request('POST', '/api/runs', { token, body: { agent_id: agent, task: 'look around', project_id: project.id } });
    assert.equal(r.status, 201, r.text);
    const run = await waitFor(async () => {
      const x = (await k.request('GET', `/api/runs/${r.body.id}`, { token })).body;
      return ['completed', 'failed', 'cancelled'].includes(x.status) && x;
    }, 'the run to finish', 20_000);
    const text = (await k.request('GET', `/api/runs/${run.id}/logs`, { token })).text;
    return { run, text };
  }

  /** The cli agent from the report, made by an admin (users may no longer name a program). */
  async function hostileAgent(k: Kernel, dataDir: string): Promise<string> {
    const command = [
      probe({ dataDir, ...ports }),
      'echo change > by-cli.txt; git add -A && git -c user.name=x -c user.email=x@x commit -qm "by the cli" && echo COMMITTED',
      // What it must not do to the repository: move another branch, or repoint its .git at a git dir of its own.
      'git update-ref refs/heads/main HEAD && echo MAIN-MOVED',
      '(echo "gitdir: /tmp" > .git && echo DOTGIT-REWRITTEN) 2>/dev/null',
      'true',
    ].join('; ');
    const r = await k.request('POST', '/api/agents', { body: { name: 'leaker', kind: 'cli', cli_name: 'command', provider_config: { command: '/bin/sh', args: ['-c', command] } } });
    assert.equal(r.status, 201, r.text);
    return r.body.id;
  }

  test('only admins name the program of a cli agent; users get a 403 that says why', async () => {
    const { k, user } = await start('auto');
    for (const key of ['command', 'binary', 'args']) {
      const r = await k.request('POST', '/api/agents', { token: user.token, body: { name: `mine-${key}`, kind: 'cli', cli_name: 'command', provider_config: { [key]: key === 'args' ? ['-c', 'id'] : '/bin/sh' } } });
      assert.equal(r.status, 403, r.text);
      assert.equal(r.body.error.code, 'PLINTH_ERR_FORBIDDEN');
      assert.match(r.body.error.message, new RegExp(`only admins may set provider_config\\.${key}`));
    }
    const own = await k.request('POST', '/api/agents', { token: user.token, body: { name: 'mine', kind: 'cli', cli_name: 'claude-code', provider_config: { model: 'sonnet' } } });
    assert.equal(own.status, 201, own.text);
    const patched = await k.request('PATCH', `/api/agents/${own.body.id}`, { token: user.token, body: { provider_config: { binary: '/bin/sh' } } });
    assert.equal(patched.status, 403, patched.text);
    const admin = await k.request('POST', '/api/agents', { body: { name: 'admins', kind: 'cli', cli_name: 'command', provider_config: { command: '/bin/echo', args: ['hi'] } } });
    assert.equal(admin.status, 201, admin.text);
  });

  test('sandboxed: the run, the command job and the MCP server see no kernel secret, no data dir, no network but the allowed host; the CLI commits in its worktree', async () => {
    const { k, user } = await start('auto');
    const agent = await hostileAgent(k, k.dataDir);
    const repo = makeRepo();
    const { run, text } = await runOutput(k, user.token, agent, repo);
    assert.equal(run.status, 'completed', text);
    const job = await jobOutput(k, user.token, probe({ dataDir: k.dataDir, ...ports }));
    for (const [what, out] of [['run', text], ['job', job]] as const) {
      assert.ok(!out.includes(k.adminToken), `${what}: the admin token leaked`);
      assert.ok(!out.includes('PLINTH_ADMIN_TOKEN'), `${what}: the kernel's environment leaked`);
      assert.ok(!out.includes('DATA-DIR-SECRET') && out.includes('DATA-HIDDEN'), `${what}: the data dir was readable`);
      assert.ok(out.includes('OUTSIDE-REFUSED') && !out.includes('OUTSIDE-WRITTEN'), `${what}: wrote outside its folder`);
      assert.ok(out.includes('TCP-5432-ECONNREFUSED') && out.includes(`TCP-${ports.tcpPort}-ECONNREFUSED`), `${what}: raw TCP reached the host`);
      assert.ok(!out.includes('reached-a-denied-host'), `${what}: reached a host it was not allowed`);
    }
    assert.ok(job.includes('ALLOWED:reached-the-allowed-host'), `the job reaches its allowed host:\n${job}`);
    const mcp = await mcpLook(k);
    assert.ok(!mcp.environ.includes(k.adminToken) && mcp.environ.startsWith('refused'), `MCP server: ${mcp.environ.slice(0, 200)}`);
    assert.match(mcp.secret, /^refused: ENOENT/);
    assert.match(mcp.write, /^refused: EROFS/);
    // The CLI's own commit went into the main repository's objects and refs through the worktree.
    assert.ok(text.includes('COMMITTED'), text);
    assert.equal(git(repo, 'log', '-1', '--format=%s', run.branch), 'by the cli');
    assert.ok(!text.includes('MAIN-MOVED') && git(repo, 'log', '-1', '--format=%s', 'main') === 'first', 'another branch moved');
    assert.ok(!text.includes('DOTGIT-REWRITTEN'), 'the worktree\'s .git was rewritten');
  });

  test('unsandboxed (an admin\'s opt-out), the same commands do see the kernel: the refusals above are real', async () => {
    const { k, user } = await start('off');
    const agent = await hostileAgent(k, k.dataDir);
    const { text } = await runOutput(k, user.token, agent, makeRepo());
    const job = await jobOutput(k, user.token, probe({ dataDir: k.dataDir, ...ports }));
    for (const [what, out] of [['run', text], ['job', job]] as const) {
      assert.ok(out.includes(`PLINTH_ADMIN_TOKEN=${k.adminToken}`), `${what}: unsandboxed, /proc/$PPID/environ shows the kernel's token`);
      assert.ok(out.includes('DATA-DIR-SECRET'), `${what}: unsandboxed, the data dir is readable`);
      assert.ok(out.includes('OUTSIDE-WRITTEN'), `${what}: unsandboxed, it writes anywhere`);
      assert.ok(out.includes(`TCP-${ports.tcpPort}-OPEN`), `${what}: unsandboxed, raw TCP reaches the host`);
      assert.ok(out.includes('reached-a-denied-host'), `${what}: unsandboxed, any host is reachable`);
    }
    assert.ok(text.includes('MAIN-MOVED') && text.includes('DOTGIT-REWRITTEN'), 'unsandboxed, the CLI can do both to the repository');
    const mcp = await mcpLook(k);
    assert.ok(mcp.environ.includes(`PLINTH_ADMIN_TOKEN=${k.adminToken}`), 'MCP server: unsandboxed, it reads the kernel\'s environment');
    assert.equal(mcp.secret, 'DATA-DIR-SECRET\n');
    assert.equal(mcp.write, 'written');
  });

  test('fail closed: without a working bubblewrap, users\' runs and command jobs are refused with what to install; an admin\'s job still runs', async () => {
    const { k, user } = await start('auto', { PLINTH_SANDBOX_BWRAP: '/nonexistent/bwrap' });
    const job = await k.request('POST', '/api/jobs', { token: user.token, body: { kind: 'command', request: { command: 'echo hi' } } });
    assert.equal(job.status, 503, job.text);
    assert.equal(job.body.error.code, 'PLINTH_ERR_SANDBOX_UNAVAILABLE');
    assert.match(job.body.error.message, /bubblewrap not found at "\/nonexistent\/bwrap".*apt-get install bubblewrap socat/);
    const agent = (await k.request('POST', '/api/agents', { body: { name: 'echoer', kind: 'cli', cli_name: 'command', provider_config: { command: '/bin/echo', args: ['hi'] } } })).body.id;
    const project = (await k.request('POST', '/api/projects', { token: user.token, body: { name: 'p' } })).body;
    const repo = makeRepo();
    assert.equal((await k.request('POST', `/api/projects/${project.id}/repos`, { token: user.token, body: { name: 'app', repo_path: repo } })).status, 201);
    const run = await k.request('POST', '/api/runs', { token: user.token, body: { agent_id: agent, task: 't', project_id: project.id } });
    assert.equal(run.status, 503, run.text);
    assert.equal(run.body.error.code, 'PLINTH_ERR_SANDBOX_UNAVAILABLE');
    assert.equal(git(repo, 'worktree', 'list').split('\n').length, 1, 'nothing was created for the refused run');
    const mine = await jobOutput(k, k.adminToken, 'echo admin-ran');
    assert.match(mine, /admin-ran/);
    // The admin's MCP server asked for the sandbox: it does not start unconfined, and says why.
    const mcp = await waitFor(async () => ((await k.request('GET', '/api/runtime/mcp')).body.items as any[]).find(c => c.name === 'peek' && c.state === 'error'), 'the MCP server to fail', 20_000);
    assert.match(mcp.lastError, /PLINTH_ERR_SANDBOX_UNAVAILABLE|no process sandbox.*bubblewrap/);
  });
});
