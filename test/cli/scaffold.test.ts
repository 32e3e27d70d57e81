import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/plugins';
import { plinth } from './run-cli';

const ROOT = join(__dirname, '..', '..');

test('`plinth plugin new` scaffolds a plugin that passes its own test at once and lands in the registry disabled', async () => {
  // Inside the repository (git-ignored), so the scaffold's `plinth/sdk` import resolves as a real plugin's does.
  const base = tempDir('scaffold-');
  const registry = join(base, 'plugin-registry.json');
  writeFileSync(registry, JSON.stringify({ plugins: [{ id: 'hello', path: join(ROOT, 'examples', 'hello') }] }));
  const env = { PLINTH_REGISTRY: registry, PLINTH_DATA_DIR: join(base, 'data') };

  const r = await plinth(['plugin', 'new', 'price-watch', '--json'], { env });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const dir = join(base, 'plugins', 'price-watch');
  assert.equal(r.json().dir, dir);
  for (const f of ['plugin.json', 'src/index.ts', 'src/schemas.ts', 'src/generated/types.ts', 'test/price-watch.test.ts', 'README.md']) {
    assert.ok(existsSync(join(dir, f)), `${f} written`);
  }
  assert.deepEqual(JSON.parse(readFileSync(registry, 'utf8')).plugins[1], { id: 'price-watch', path: 'plugins/price-watch', enabled: false, config: {} });
  assert.match(readFileSync(join(dir, 'src', 'generated', 'types.ts'), 'utf8'), /export interface EchoInput/);
  for (const f of ['src/index.ts', 'src/echo.ts', 'test/price-watch.test.ts']) {
    const specs = [...readFileSync(join(dir, f), 'utf8').matchAll(/from '([^']+)'/g)].map(m => m[1]);
    assert.deepEqual(specs.filter(s => !s.startsWith('node:') && !s.startsWith('./') && s !== 'plinth/sdk' && s !== 'plinth/testing'), [], `${f} imports only the SDK (and its test kernel) and its own files`);
  }

  const run = spawnSync(process.execPath, ['--require', join(ROOT, 'scripts', 'ts-hook.js'), '--test', '--test-reporter=tap', join(dir, 'test', 'price-watch.test.ts')], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, PLINTH_LOG_STDOUT: '0' }, timeout: 60_000 });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /# pass 2/);

  const again = await plinth(['plugin', 'new', 'price-watch'], { env });
  assert.equal(again.status, 1);
  assert.match(again.stderr, /exists and is not empty/);
  const elsewhere = await plinth(['plugin', 'new', 'price-watch', '--dir', join(base, 'other')], { env });
  assert.equal(elsewhere.status, 1);
  assert.match(elsewhere.stderr, /already in/);
  assert.equal(existsSync(join(base, 'other')), false, 'nothing written when the id is taken');

  for (const args of [['plugin', 'new', 'Bad_Name'], ['plugin', 'new'], ['plugin', 'create', 'x']]) {
    const bad = await plinth(args, { env });
    assert.equal(bad.status, 2, args.join(' '));
  }
  assert.equal(JSON.parse(readFileSync(registry, 'utf8')).plugins.length, 2);
});
