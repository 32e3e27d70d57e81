/** GET /api/workspace/state: the agent runtime's workspace folder, its files and state, for admins. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

let k: TestKernel;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plinth-workspace-'));
  k = await createTestKernel({ plugins: [{ path: join(__dirname, '..'), config: { workspaceDir: join(dir, 'ws') } }] });
});
after(async () => { await k?.stop(); rmSync(dir, { recursive: true, force: true }); });

const state = (query = '', token = k.adminToken) => k.request('GET', `/api/workspace/state${query}`, { token });

test('an absent workspace says so; with files: each file, folder and symlink (not followed), totals, the last change, the git branch and commit', async () => {
  const none = await state();
  assert.equal(none.status, 200, none.text);
  assert.deepEqual([none.body.exists, none.body.files, none.body.git], [false, [], null]);

  const ws = join(dir, 'ws');
  mkdirSync(join(ws, 'memory'), { recursive: true });
  writeFileSync(join(ws, 'AGENTS.md'), '# How to work\n');
  writeFileSync(join(ws, 'memory', '2026-12-08.md'), 'notes of the day\n');
  symlinkSync('/etc', join(ws, 'outside'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ws, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).toString().trim();
  git('init', '-q', '-b', 'main');
  git('add', 'AGENTS.md');
  git('commit', '-q', '-m', 'first');
  const head = git('rev-parse', 'HEAD');

  const r = await state();
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.exists, true);
  assert.deepEqual(r.body.files.map((f: any) => [f.path, f.type, f.size]), [['AGENTS.md', 'file', 14], ['memory', 'dir', 0], ['memory/2026-12-08.md', 'file', 17], ['outside', 'symlink', 0]]);
  assert.deepEqual(r.body.totals, { files: 2, dirs: 1, bytes: 31 });
  assert.ok(Date.parse(r.body.lastModifiedAt) > 0);
  assert.deepEqual(r.body.git, { branch: 'main', head });
  assert.equal(r.body.truncated, false);

  const sub = await state('?path=memory');
  assert.deepEqual(sub.body.files.map((f: any) => f.path), ['memory/2026-12-08.md']);
  const capped = await state('?max_entries=2');
  assert.deepEqual([capped.body.files.length, capped.body.truncated], [2, true]);
});

test('refused: a path out of the workspace, a folder that is not there, a symlink out, a non-admin', async () => {
  for (const path of ['../', '/etc', 'memory/../../x']) {
    const r = await state(`?path=${encodeURIComponent(path)}`);
    assert.equal(r.status, 400, path);
    assert.match(r.body.error.message, /leads out of the workspace/);
  }
  assert.equal((await state('?path=nope')).status, 404);
  assert.equal((await state('?path=outside')).status, 404, 'a symlink leading out is not listed through');
  const user = await k.createUser();
  assert.equal((await state('', user.token)).status, 403);
  assert.equal((await state('?max_entries=0')).status, 400);
});
