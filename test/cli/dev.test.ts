import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempDir } from '../helpers/plugins';
import { plinth } from './run-cli';

const ROOT = join(__dirname, '..', '..');

test('plugin new --dir outside a checkout writes a package (plinth as peer and dev dependency) and touches no registry', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'plinth-standalone-')), 'acme');
  try {
    const registry = join(tempDir('standalone-reg-'), 'plugin-registry.json');
    const r = await plinth(['plugin', 'new', 'acme', '--dir', dir, '--plinth', 'file:../plinth-1.0.0.tgz', '--json'], { env: { PLINTH_REGISTRY: registry } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.json().registry, null);
    assert.ok(!existsSync(registry));
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    assert.deepEqual(pkg.peerDependencies, { plinth: '^1.0.0' });
    assert.equal(pkg.devDependencies.plinth, 'file:../plinth-1.0.0.tgz');
    assert.equal(pkg.scripts.test, 'node --require plinth/register --test test/acme.test.ts');
    for (const f of ['plugin.json', 'tsconfig.json', 'src/index.ts', 'test/acme.test.ts', 'README.md']) assert.ok(existsSync(join(dir, f)), f);
    const again = await plinth(['plugin', 'new', 'acme', '--dir', dir]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /not empty/);
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});

test('plinth dev serves a plugin folder hot-reloading, with the URL and an admin token printed', async () => {
  const base = tempDir('dev-');
  const dir = join(base, 'acme');
  assert.equal((await plinth(['plugin', 'new', 'acme', '--dir', dir, '--no-registry'])).status, 0);
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'plinth.js'), 'dev', '--only', '--port', '0'], {
    cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, PLINTH_LOG_STDOUT: '0', PLINTH_DATA_DIR: join(base, 'data') }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', d => (out += d));
  proc.stderr.on('data', d => (out += d));
  try {
    const deadline = Date.now() + 30_000;
    while (!/admin token: \S+/.test(out) && Date.now() < deadline && proc.exitCode === null) await new Promise(r => setTimeout(r, 100));
    const url = /listening on (\S+)/.exec(out)?.[1];
    const token = /admin token: (\S+)/.exec(out)?.[1];
    assert.ok(url && token, out);
    assert.match(out, /acme active/);
    const echo = async () => (await fetch(`${url}/api/acme/echo`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hi' }) })).json();
    assert.deepEqual(await echo(), { text: 'echo: hi' });
    assert.equal((await fetch(`${url}/api/acme/echo`, { method: 'POST', body: '{}' })).status, 401);
    const file = join(dir, 'src', 'echo.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace('config.prefix + input.text', "'dev: ' + input.text"));
    let body: any;
    for (let i = 0; i < 100; i++) { body = await echo(); if (body.text === 'dev: hi') break; await new Promise(r => setTimeout(r, 100)); }
    assert.deepEqual(body, { text: 'dev: hi' });
  } finally {
    const exited = new Promise(r => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
});
