import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPortUrl, plinth } from './run-cli';

test('plinth peer install-hook merges its session-start and turn hooks into Claude Code\'s settings, once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plinth-peer-hook-'));
  mkdirSync(join(dir, '.claude'));
  const other = { hooks: [{ type: 'command', command: 'echo hello' }] };
  writeFileSync(join(dir, '.claude', 'settings.local.json'), JSON.stringify({ permissions: { allow: ['Bash(ls)'] }, hooks: { SessionStart: [other], Stop: [other] } }));
  for (let i = 0; i < 2; i++) {
    const r = await plinth(['peer', 'install-hook', '--backend', 'claude-code', '--name', 'reviewer', '--dir', dir, '--json']);
    assert.equal(r.status, 0, r.stderr);
  }
  const s = JSON.parse(readFileSync(join(dir, '.claude', 'settings.local.json'), 'utf8'));
  assert.deepEqual(s.permissions, { allow: ['Bash(ls)'] });
  assert.deepEqual(s.hooks.Stop[0], other);
  assert.equal(s.hooks.SessionStart.length, 2);
  assert.deepEqual(s.hooks.SessionStart[0], other);
  assert.match(s.hooks.SessionStart[1].hooks[0].command, /peer hook --backend claude-code --name 'reviewer' --agent-pid "\$PPID" >\/dev\/null 2>&1 &$/);
  assert.match(s.hooks.UserPromptSubmit[0].hooks[0].command, / peer turn busy >\/dev\/null$/);
  assert.deepEqual([s.hooks.UserPromptSubmit.length, s.hooks.Stop.length], [1, 2]);
  assert.match(s.hooks.Stop[1].hooks[0].command, / peer turn idle >\/dev\/null$/);
  const gemini = await plinth(['peer', 'install-hook', '--backend', 'gemini', '--name', 'x', '--dir', dir]);
  assert.equal(gemini.status, 2);
  assert.match(gemini.stderr + gemini.stdout, /link its pane/);
});

test('plinth peer without a server fails with a clear message; unknown subcommands are usage errors', async () => {
  const url = await closedPortUrl();
  const r = await plinth(['peer', 'list', '--url', url, '--token', 't']);
  assert.equal(r.status, 1);
  assert.match(r.stderr + r.stdout, /cannot reach the server/);
  const u = await plinth(['peer', 'frobnicate']);
  assert.equal(u.status, 2);
});
