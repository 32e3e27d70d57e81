import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parse } from 'smol-toml';
import { createTestKernel, mockServices, type TestKernel } from 'plinth/testing';
import { asUser, TmuxServer, until, type Pane } from './tmux-harness';

const ROOT = join(__dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'plinth.js');
const FAKE_CLI = join(__dirname, 'fixtures', 'fake-agent-cli.js');
const plugin = (id: string, config?: Record<string, unknown>) => ({ path: join(ROOT, 'plugins', id), config });

/** `plinth …` as a child process, with a clean environment plus `env`. */
function plinth(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise(resolve => {
    const child = execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 30_000 }, (error, out, err) =>
      resolve({ code: child.exitCode ?? (error as any)?.code ?? null, out, err }));
  });
}

describe('busy and idle from the coding CLIs\' hooks, with a real tmux (sqlite)', () => {
  let k: TestKernel;
  let tmux: TmuxServer;
  let alice: { user: any; token: string };
  let bob: { user: any; token: string };
  before(async () => {
    k = await createTestKernel({
      plugins: [plugin('mesh', { pingMs: 5000, sweepMs: 100, confirmMs: 8000 }), plugin('jobs', { pollMs: 100, heartbeatMs: 100 }), plugin('schedules', { pollMs: 100 }), plugin('mcp')],
      services: [mockServices.toolPolicy()],
    });
    alice = await k.createUser();
    bob = await k.createUser();
    tmux = new TmuxServer();
    // A session of its own keeps the server up whatever a test's pane does (it ends with this process),
    // and a pane whose program exits stays, with its last output, for the failure message.
    tmux.run(['new-session', '-d', '-s', 'keep', `tail --pid=${process.pid} -f /dev/null`]);
    tmux.run(['set-option', '-g', 'remain-on-exit', 'on']);
  });
  after(async () => { tmux.stop(); await k.stop(); });

  const as = (who: { token: string }) => asUser(k, who.token);
  const peerOf = async (pane: Pane, want: (p: any) => boolean, what: string) => {
    try {
      return await until(async () => (await as(alice).get('/api/peers')).body.items.find((p: any) => p.binding.pane_id === pane.id && want(p)), 30_000, what);
    } catch (err: any) {
      // What the kernel and the pane show, so a miss says why.
      const peers = (await as(alice).get('/api/peers')).body.items.map((p: any) => `${p.name} ${p.binding.pane_id} ${p.lifecycle} ${p.inbound} ${p.turn_state}`);
      throw new Error(`${err.message}\npane ${pane.id}:\n${pane.screen().trim()}\npeers: ${peers.join('; ')}`);
    }
  };
  /** A project folder with the backend's hooks written by `plinth peer install-hook`, and the stand-in CLI started in it. */
  const cliInPane = async (backend: 'claude-code' | 'codex', name: string, prepare?: (dir: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), `plinth-${backend}-`));
    prepare?.(dir);
    const installed = await plinth(['peer', 'install-hook', '--backend', backend, '--name', name, '--dir', dir, '--json']);
    assert.equal(installed.code, 0, installed.err + installed.out);
    const pane = tmux.startProgram(name, [process.execPath, FAKE_CLI, backend], { cwd: dir, vars: { PLINTH_URL: k.baseUrl, PLINTH_TOKEN: alice.token }, circle: 'hooks' });
    return { dir, pane };
  };

  /** Session start → online; a prompt → busy; the turn's stop → idle (online); the hooks print nothing into the model's context. */
  async function turnCycle(pane: Pane, backend: string) {
    const peer = await peerOf(pane, p => p.lifecycle === 'online' && p.inbound === 'connected', `${backend} peer online`);
    assert.equal(peer.backend, backend);
    await until(() => pane.screen().includes('SESSION STARTED codes=0 stdout=""'), 30_000, 'session start hook ran');
    assert.equal(peer.binding.agent_pid, pane.agentPid(), 'the agent is the CLI itself (the hook shell\'s parent)');
    assert.equal(peer.turn_state, null);

    pane.keys('fix the flaky test');
    const busy = await peerOf(pane, p => p.lifecycle === 'busy', `${backend} peer busy`);
    assert.equal(busy.turn_state, 'busy');
    await until(() => pane.screen().includes('TURN STARTED codes=0 stdout=""'), 30_000, 'prompt hook ran');

    pane.keys('finish');
    const idle = await peerOf(pane, p => p.lifecycle === 'online' && p.turn_state === 'idle', `${backend} peer idle`);
    assert.equal(idle.inbound, 'connected');
    // Every Stop hook ran and succeeded (the Codex project keeps one of its own beside ours).
    await until(() => /TURN STOPPED codes=0(,0)* stdout=""/.test(pane.screen()), 30_000, 'stop hooks ran');
    return peer;
  }

  test('Claude Code: the session start registers the pane\'s peer, a prompt makes it busy, the turn\'s stop idle', async () => {
    const { dir, pane } = await cliInPane('claude-code', 'claude');
    const settings = JSON.parse(readFileSync(join(dir, '.claude', 'settings.local.json'), 'utf8'));
    assert.deepEqual(Object.keys(settings.hooks).sort(), ['SessionStart', 'Stop', 'UserPromptSubmit']);
    await turnCycle(pane, 'claude-code');
  });

  test('Codex: hooks.json and the feature flag in config.toml (the user\'s settings kept), then the same cycle', async () => {
    const mine = '# my settings\nmodel = "gpt-5"\n\n[features]\nweb_search_request = true # keep\ncodex_hooks = false\n';
    const other = { hooks: [{ type: 'command', command: 'echo audit >/dev/null' }] };
    const { dir, pane } = await cliInPane('codex', 'codex', d => {
      mkdirSync(join(d, '.codex'));
      writeFileSync(join(d, '.codex', 'config.toml'), mine);
      writeFileSync(join(d, '.codex', 'hooks.json'), JSON.stringify({ hooks: { Stop: [other] } }));
    });
    // Written twice: still one set of ours.
    assert.equal((await plinth(['peer', 'install-hook', '--backend', 'codex', '--name', 'codex', '--dir', dir])).code, 0);
    const toml = readFileSync(join(dir, '.codex', 'config.toml'), 'utf8');
    assert.equal(toml, mine.replace('codex_hooks = false', 'codex_hooks = true'), 'comments and other settings stay');
    assert.deepEqual({ ...(parse(toml).features as object) }, { web_search_request: true, codex_hooks: true });
    const hooks = JSON.parse(readFileSync(join(dir, '.codex', 'hooks.json'), 'utf8')).hooks;
    assert.deepEqual(hooks.Stop[0], other);
    assert.deepEqual([hooks.SessionStart.length, hooks.UserPromptSubmit.length, hooks.Stop.length], [1, 1, 2]);
    assert.match(hooks.UserPromptSubmit[0].hooks[0].command, / peer turn busy >\/dev\/null$/);
    await turnCycle(pane, 'codex');

    // A config.toml that is not TOML is refused and left as it was.
    const broken = mkdtempSync(join(tmpdir(), 'plinth-codex-'));
    mkdirSync(join(broken, '.codex'));
    writeFileSync(join(broken, '.codex', 'config.toml'), 'model = \n');
    const r = await plinth(['peer', 'install-hook', '--backend', 'codex', '--name', 'x', '--dir', broken]);
    assert.equal(r.code, 1);
    assert.match(r.out + r.err, /config\.toml is not valid TOML/);
    assert.equal(readFileSync(join(broken, '.codex', 'config.toml'), 'utf8'), 'model = \n');
  });

  test('turn reports: bad ones refused and nothing changes; another user\'s peer 404; a retired peer\'s hooks get 410 without blocking the CLI', async () => {
    const { pane } = await cliInPane('claude-code', 'reporter');
    const peer = await peerOf(pane, p => p.lifecycle === 'online' && p.inbound === 'connected', 'reporter online');
    const turn = (who: { token: string }, body: unknown) => as(who).post(`/api/peers/${peer.id}/turn`, body);
    assert.equal((await turn(alice, { turn: 'sleepy' })).status, 400);
    assert.equal((await turn(bob, { turn: 'busy' })).status, 404);
    const mismatch = await turn(alice, { turn: 'busy', pane_id: '%999' });
    assert.equal(mismatch.status, 409, mismatch.text);
    assert.match(mismatch.body.error.message, /bound to pane/);
    const unchanged = (await as(alice).get(`/api/peers/${peer.id}`)).body;
    assert.deepEqual([unchanged.lifecycle, unchanged.turn_state], ['online', null]);
    const ok = await turn(alice, { turn: 'busy', pane_id: pane.id });
    assert.deepEqual([ok.status, ok.body.lifecycle, ok.body.turn_state], [200, 'busy', 'busy']);
    assert.equal((await turn(alice, { turn: 'idle' })).body.lifecycle, 'online');

    // Outside tmux, or a word that is not a turn: exit 1 (never 2, which would block the prompt).
    const outside = await plinth(['peer', 'turn', 'busy', '--url', k.baseUrl, '--token', alice.token]);
    assert.deepEqual([outside.code, /not inside tmux/.test(outside.err)], [1, true]);
    assert.equal((await plinth(['peer', 'turn', 'nap', '--url', k.baseUrl, '--token', alice.token])).code, 1);

    assert.equal((await as(alice).del(`/api/peers/${peer.id}`)).status, 200);
    assert.equal((await turn(alice, { turn: 'busy' })).status, 410);
    pane.keys('one more thing');
    await until(() => pane.screen().includes('TURN STARTED codes=1 stdout=""'), 30_000, 'the prompt hook failed without blocking');
    assert.equal((await as(alice).get(`/api/peers/${peer.id}`)).body.lifecycle, 'retired');
  });

  test('a schedule made over MCP sends a peer message (a peer_message job) into the pane', async () => {
    const { pane } = await cliInPane('claude-code', 'scheduled');
    const peer = await peerOf(pane, p => p.lifecycle === 'online' && p.inbound === 'connected', 'scheduled online');
    const transport = new StreamableHTTPClientTransport(new URL('/mcp', k.baseUrl), { requestInit: { headers: { authorization: `Bearer ${alice.token}` } } });
    const client = new Client({ name: 'mesh-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const at = new Date(Date.now() + 1000).toISOString();
      const r: any = await client.callTool({ name: 'schedules.create', arguments: { name: 'standup', at, job: { kind: 'peer_message', request: { to: peer.id, text: 'stand-up in 5' } } } });
      assert.equal(r.isError, undefined, JSON.stringify(r.content));
      await until(() => pane.screen().includes('stand-up in 5</peer-message>'), 30_000, 'the scheduled message in the pane');
      // The job acts as its owner: another user's peer is not found, and the job fails saying so.
      const bobs: any = await client.callTool({ name: 'jobs.create', arguments: { kind: 'peer_message', request: { to: 'peer_nosuch', text: 'x' }, max_retries: 0 } });
      const failed = await until(async () => { const s: any = await client.callTool({ name: 'jobs.status', arguments: { job_id: bobs.structuredContent.id } }); return s.structuredContent.state === 'failed' && s.structuredContent; }, 30_000, 'job failed');
      assert.match(failed.error, /not found/);
      const bad: any = await client.callTool({ name: 'jobs.create', arguments: { kind: 'peer_message', request: { text: 'no recipient' } } });
      assert.match(bad.content[0].text, /PLINTH_ERR_VALIDATION.*to/);
    } finally {
      await client.close();
    }
  });
});
