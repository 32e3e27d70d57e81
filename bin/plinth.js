#!/usr/bin/env node
'use strict';
require('../scripts/ts-hook.js');
require('../cli/index.ts').main(process.argv.slice(2)).then(
  code => { if (typeof code === 'number') process.exitCode = code; },
  err => { console.error(err && err.stack ? err.stack : err); process.exit(1); },
);
