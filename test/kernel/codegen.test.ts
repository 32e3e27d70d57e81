import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { tempDir } from '../helpers/plugins';

const ROOT = join(__dirname, '..', '..');

test('`plinth codegen <dir>` writes the types the hello example imports, and they are current', () => {
  const dir = join(tempDir('codegen-'), 'hello');
  cpSync(join(ROOT, 'examples', 'hello'), dir, { recursive: true });
  rmSync(join(dir, 'src', 'generated'), { recursive: true, force: true });
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'plinth.js'), 'codegen', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /wrote .*generated\/types\.ts/);
  const fresh = readFileSync(join(dir, 'src', 'generated', 'types.ts'), 'utf8');
  assert.match(fresh, /export interface Config \{\n  greeting\?: string;/);
  assert.match(fresh, /export interface GreetInput \{\n  name: string;/);
  assert.equal(fresh, readFileSync(join(ROOT, 'examples', 'hello', 'src', 'generated', 'types.ts'), 'utf8'), 'committed types are stale: run plinth codegen examples/hello');
  const bad = spawnSync(process.execPath, [join(ROOT, 'bin', 'plinth.js'), 'codegen'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
});
