#!/usr/bin/env node
'use strict';
// `npm run bench [filter]`: runs every bench/*.ts (each prints one JSON line of figures) one after
// another, so that they do not compete for the two cores, and collects the lines in bench/results.jsonl.
const { spawnSync } = require('node:child_process');
const { readdirSync, appendFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const filter = process.argv.slice(2);
const files = readdirSync(join(root, 'bench')).filter(f => f.endsWith('.ts') && !f.startsWith('_')).filter(f => !filter.length || filter.some(x => f.includes(x))).sort();
let failed = 0;
for (const f of files) {
  process.stderr.write(`bench ${f}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--require', join(root, 'scripts', 'ts-hook.js'), join(root, 'bench', f)], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 15 * 60_000 });
  const line = (r.stdout || '').trim().split('\n').filter(Boolean).pop();
  if (r.status !== 0 || !line) { failed++; process.stderr.write(`bench ${f} failed (${r.status})\n`); continue; }
  process.stdout.write(line + '\n');
  appendFileSync(join(root, 'bench', 'results.jsonl'), JSON.stringify({ at: new Date().toISOString(), bench: f, ...JSON.parse(line) }) + '\n');
}
process.exit(failed ? 1 : 0);
