#!/usr/bin/env node
'use strict';
// `npm run chaos [seconds]`: three kernels behind nginx on one PostgreSQL (PLINTH_TEST_POSTGRES_URL),
// a mixed workload, a random kernel SIGKILLed every ~10 s and restarted; prints the figures.
require('./ts-hook.js');
const { loadavg } = require('node:os');
const { chaosFailures, runChaos } = require('../test/cluster/chaos.ts');
const url = process.env.PLINTH_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';
const seconds = Number(process.argv[2] || 180);
const started = Date.now();
runChaos({ postgresUrl: url, durationMs: seconds * 1000, killEveryMs: 10_000, log: m => process.stderr.write(`${Math.round((Date.now() - started) / 1000)} s: ${m}\n`) })
  .then(f => {
    console.log(JSON.stringify({ ...f, loadAverage: loadavg().map(l => Math.round(l * 10) / 10) }));
    const failures = chaosFailures(f);
    for (const what of failures) console.error(`FAILED: ${what}`);
    process.exitCode = failures.length ? 1 : 0;
  }, err => { console.error(err); process.exitCode = 1; });
