#!/usr/bin/env node
'use strict';
// Runs every *.test.ts with node's built-in runner, TypeScript loaded through scripts/ts-hook.js.
// A test file that fails is run once more on its own and named loudly: on a shared 2-core
// machine a timing-sensitive test can lose a race once; a real failure fails twice.
const { spawnSync } = require('node:child_process');
const { readdirSync, readFileSync, rmSync, statSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const roots = ['test', 'plugins', 'examples'];
const filter = process.argv.slice(2);
const files = [];
function walk(dir) {
  let entries;
  try { entries = readdirSync(dir); } catch { return; }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'fixtures' || name === 'data') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
}
for (const r of roots) walk(join(root, r));
const selected = filter.length ? files.filter(f => filter.some(x => f.includes(x))) : files;
if (!selected.length) { console.error('no test files matched'); process.exit(1); }
const concurrency = process.env.PLINTH_TEST_CONCURRENCY || '2';
// A bound on each test file (Node 20 applies --test-timeout to the whole file run in its own
// process): a test that hangs fails by name and is retried once, instead of holding the run
// until CI's own limit kills it with nothing said. The slowest file takes about a minute.
// (Node 22+ applies the timeout per test; --test-force-exit then ends a file whose timed-out
// test left a handle open, which would otherwise keep its process alive.)
const fileTimeoutMs = process.env.PLINTH_TEST_FILE_TIMEOUT_MS || '600000';
const env = { ...process.env, PLINTH_LOG_STDOUT: process.env.PLINTH_LOG_STDOUT ?? '0', PLINTH_SOURCE_MAPS: process.env.PLINTH_SOURCE_MAPS ?? '1' };

function run(list, tapFile) {
  return spawnSync(process.execPath, [
    '--require', join(root, 'scripts', 'ts-hook.js'),
    '--test', `--test-concurrency=${concurrency}`, `--test-timeout=${fileTimeoutMs}`, '--test-force-exit',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
    ...list,
  ], { cwd: root, stdio: 'inherit', env }).status;
}

/** Files with a failed top-level test, from the TAP report (each failure's `location:` names its file). */
function failedFiles(tapFile, list) {
  let tap = '';
  try { tap = readFileSync(tapFile, 'utf8'); } catch { return []; }
  const lines = tap.split('\n');
  const failed = new Set();
  for (let i = 0; i < lines.length; i++) {
    if (!/^not ok \d+ - /.test(lines[i])) continue;
    for (let j = i + 1; j < lines.length && j < i + 40 && !/^(not )?ok \d+ - /.test(lines[j]); j++) {
      const m = /^ {2}location: '(.+?):\d+:\d+'/.exec(lines[j]);
      if (!m) continue;
      const file = list.find(f => m[1] === join(root, f));
      if (file) failed.add(file);
      break;
    }
  }
  return [...failed];
}

const tapFile = join(tmpdir(), `plinth-test-${process.pid}.tap`);
let status = run(selected.sort(), tapFile);
if (status !== 0 && !process.env.PLINTH_TEST_NO_RETRY) {
  const again = failedFiles(tapFile, selected);
  if (again.length && again.length <= 3) {
    console.log(`\n!!! ${again.length} test file(s) failed; running them once more on their own: ${again.join(', ')}\n`);
    status = run(again, tapFile);
    console.log(status === 0 ? `\n!!! passed on the second run (flaky under load): ${again.join(', ')}` : `\n!!! failed again: ${again.join(', ')}`);
  }
}
rmSync(tapFile, { force: true });
process.exit(status ?? 1);
