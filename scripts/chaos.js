#!/usr/bin/env node
'use strict';
// `npm run chaos [seconds]`: three kernels behind nginx on one PostgreSQL (PLINTH_TEST_POSTGRES_URL),
// a mixed workload, a random kernel SIGKILLed every ~10 s and restarted; prints the figures.
require('./ts-hook.js');
const { runChaos } = require('../test/cluster/chaos.ts');
const url = process.env.PLINTH_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';
const seconds = Number(process.argv[2] || 180);
runChaos({ postgresUrl: url, durationMs: seconds * 1000, killEveryMs: 10_000, log: m => process.stderr.write(m + '\n') })
  .then(f => {
    console.log(JSON.stringify(f));
    const ok = f.notes.lost === 0 && f.jobs.notDone === 0 && f.jobs.mismatched === 0 && f.requests.status5xxOutsideDowntime === 0;
    process.exitCode = ok ? 0 : 1;
  }, err => { console.error(err); process.exitCode = 1; });
