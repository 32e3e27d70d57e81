#!/usr/bin/env node
'use strict';
// Runs every *.test.ts with node's built-in runner, TypeScript loaded through scripts/ts-hook.js.
const { spawnSync } = require('node:child_process');
const { readdirSync, statSync } = require('node:fs');
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
const result = spawnSync(process.execPath, [
  '--require', join(root, 'scripts', 'ts-hook.js'),
  '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec',
  ...selected.sort(),
], { cwd: root, stdio: 'inherit', env: { ...process.env, PLINTH_LOG_STDOUT: process.env.PLINTH_LOG_STDOUT ?? '0', PLINTH_SOURCE_MAPS: process.env.PLINTH_SOURCE_MAPS ?? '1' } });
process.exit(result.status ?? 1);
