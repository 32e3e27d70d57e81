#!/usr/bin/env node
'use strict';
// A checkout runs the CLI's TypeScript; an installed package its compiled dist/ (built at npm pack).
// The hook stays in both: plugins written in TypeScript load through it.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
require('../scripts/ts-hook.js');
const source = join(__dirname, '..', 'cli', 'index.ts');
require(existsSync(source) ? source : join(__dirname, '..', 'dist', 'cli', 'index.js')).main(process.argv.slice(2)).then(
  code => { if (typeof code === 'number') process.exitCode = code; },
  err => { console.error(err && err.stack ? err.stack : err); process.exit(1); },
);
