#!/usr/bin/env node
'use strict';
// `npm run build`: type-check the whole tree with tsc, then run each plugin's own `build.ts`
// (e.g. the dashboard's web bundle). The server runs TypeScript through scripts/ts-hook.js, so it needs no emit.
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const root = join(__dirname, '..');
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
for (const dir of readdirSync(join(root, 'plugins')).sort()) {
  const script = join(root, 'plugins', dir, 'build.ts');
  if (!existsSync(script)) continue;
  const r = spawnSync(process.execPath, ['--require', join(root, 'scripts', 'ts-hook.js'), script, ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
