#!/usr/bin/env node
'use strict';
// `npm run build`: type-check the whole tree with tsc, and regenerate the examples' types.
// The server itself runs TypeScript through scripts/ts-hook.js (cached), so it needs no emit.
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');
const root = join(__dirname, '..');
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
