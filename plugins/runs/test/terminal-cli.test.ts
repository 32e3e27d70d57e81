/**
 * GET /api/terminal?cli=&task=&cwd=&cols=&rows=: the ephemeral terminal starts the CLI an adapter
 * names (here the real claude-code adapter, with a fake `claude` on PATH that prints its argv),
 * admins only, in the runs' process sandbox when one is available.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { PLUGIN, openTerminal } from './helpers';

let boxed: TestKernel;
let open: TestKernel;
let cwd: string;
const path = process.env.PATH;

before(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'plinth-cli-term-'));
  mkdirSync(join(cwd, 'bin'));
  // The fake CLI: prints its arguments, its size and whether it can see the kernel, then echoes one line back.
  writeFileSync(join(cwd, 'bin', 'claude'), `#!/bin/sh\necho "ARGS[$*]"\necho "SIZE[$(stty size)]"\n(kill -0 ${process.pid} 2>/dev/null && echo KERNEL-SEEN) || echo KERNEL-UNSEEN\nread line\necho "got:$line"\n`);
  chmodSync(join(cwd, 'bin', 'claude'), 0o755);
  process.env.PATH = `${join(cwd, 'bin')}:${path}`;
  boxed = await createTestKernel({ plugins: [{ path: PLUGIN }] });
  open = await createTestKernel({ plugins: [{ path: PLUGIN, config: { sandbox: 'off' } }] });
});
after(async () => {
  process.env.PATH = path;
  await boxed?.stop();
  await open?.stop();
});

const url = (k: TestKernel, query: string) => k.baseUrl.replace('http', 'ws') + `/api/terminal?${query}`;
const output = (t: { frames: any[] }) => t.frames.filter(f => f.type === 'output').map(f => f.data).join('');

test('?cli=claude-code&task= starts the CLI as a run would, at the size asked, in the sandbox; input reaches it; it exits', async () => {
  for (const [k, sandboxed] of [[boxed, true], [open, false]] as const) {
    const t = await openTerminal(url(k, `cli=claude-code&task=${encodeURIComponent('fix the tests')}&cwd=${encodeURIComponent(cwd)}&cols=90&rows=30`), { authorization: `Bearer ${k.adminToken}` });
    const ready = await t.wait(f => f.type === 'ready');
    assert.equal(ready.cli, 'claude-code');
    assert.equal(ready.sandboxed, sandboxed);
    assert.ok(ready.shell_id);
    await t.wait(() => output(t).includes('KERNEL-'), 10_000);
    assert.match(output(t), /ARGS\[-p fix the tests --output-format stream-json --verbose\]/);
    assert.match(output(t), /SIZE\[30 90\]/);
    assert.match(output(t), sandboxed ? /KERNEL-UNSEEN/ : /KERNEL-SEEN/);
    t.ws.send(JSON.stringify({ type: 'input', data: 'hello-cli\r' }));
    const exit = await t.wait(f => f.type === 'exit', 10_000);
    assert.equal(exit.exit_code, 0);
    assert.match(output(t), /got:hello-cli/);
  }
});

test('without task the CLI starts alone (interactive); an unknown CLI, a non-admin and a missing cwd are refused', async () => {
  const t = await openTerminal(url(open, `cli=claude-code&cwd=${encodeURIComponent(cwd)}`), { authorization: `Bearer ${open.adminToken}` });
  await t.wait(() => output(t).includes('KERNEL-'), 10_000);
  assert.match(output(t), /ARGS\[\]/);
  t.ws.close();

  const unknown = await openTerminal(url(open, 'cli=no-such-cli'), { authorization: `Bearer ${open.adminToken}` });
  const err = await unknown.wait(f => f.type === 'error');
  assert.match(err.message, /no CLI adapter "no-such-cli"; known adapters: .*claude-code/);
  const user = await open.createUser();
  const refused = await openTerminal(url(open, 'cli=claude-code'), { authorization: `Bearer ${user.token}` });
  assert.match((await refused.wait(f => f.type === 'error')).message, /admins only/);
  const nowhere = await openTerminal(url(open, `cli=claude-code&cwd=${encodeURIComponent(join(cwd, 'missing'))}`), { authorization: `Bearer ${open.adminToken}` });
  assert.match((await nowhere.wait(f => f.type === 'error')).message, /not an existing folder/);
});
