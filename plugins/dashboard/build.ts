/**
 * `npm run build` runs this (scripts/build.js runs every plugin's build.ts): type-checks web/
 * (its own tsconfig: DOM and Preact's JSX, which the server code must not see), then bundles it
 * into dist/ unless dist/ was already built from the same sources (`--force` rebuilds).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureBundle } from './src/bundle';

const tsc = join(require.resolve('typescript/package.json'), '..', 'bin', 'tsc');
const check = spawnSync(process.execPath, [tsc, '-p', join(__dirname, 'web', 'tsconfig.json')], { stdio: 'inherit' });
if (check.status !== 0) process.exit(check.status ?? 1);

ensureBundle(__dirname, { force: process.argv.includes('--force') }).then(({ built, info, ms }) => {
  console.log(`dashboard: ${built ? 'built' : 'up to date'} ${info.entry.js} (${ms} ms)`);
}, err => {
  console.error('dashboard build failed:', err?.errors?.map((e: any) => `${e.location?.file}:${e.location?.line}: ${e.text}`).join('\n') || err);
  process.exit(1);
});
