import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'cli');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap(n => { const p = join(dir, n); return statSync(p).isDirectory() ? files(p) : /\.tsx?$/.test(n) ? [p] : []; });
}

/** Relative imports of `file` that land in `target`. */
function importsInto(file: string, target: string): string[] {
  const specs = [...readFileSync(file, 'utf8').matchAll(/(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*\(\s*)['"](\.[^'"]*)['"]/g)].map(m => m[1]);
  return specs.filter(s => { const t = resolve(dirname(file), s); return t === target || t.startsWith(target + sep); }).map(s => `${relative(ROOT, file)} imports ${s}`);
}

test('the kernel and the SDK import nothing from the CLI (the CLI uses them, not the other way)', () => {
  const bad = ['core', 'sdk'].flatMap(d => files(join(ROOT, d))).flatMap(f => importsInto(f, CLI));
  assert.deepEqual(bad, []);
  // The check sees an import when there is one: the CLI's entry imports its own commands.
  assert.ok(importsInto(join(CLI, 'index.ts'), CLI).length > 0);
});
