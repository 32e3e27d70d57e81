import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SDK = join(ROOT, 'sdk');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|tsx|js|mjs|cjs|mts)$/.test(name)) out.push(p);
  }
  return out;
}

/** Every module a file names: import/export … from, import(), require(). */
export function specifiers(code: string): string[] {
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;
  return [...code.matchAll(re)].map(m => m[1]);
}

/** What a plugin may import: its own files, the SDK, and npm packages. */
export function violations(pluginDir: string): string[] {
  const bad: string[] = [];
  for (const file of sources(pluginDir)) {
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (spec === 'plinth/sdk' || spec.startsWith('plinth/sdk/')) continue;
      if (spec === 'plinth' || spec.startsWith('plinth/')) { bad.push(`${relative(ROOT, file)} imports ${spec}`); continue; }
      if (!spec.startsWith('.') && !spec.startsWith('/')) continue;
      const target = resolve(dirname(file), spec);
      if (target === SDK || target.startsWith(SDK + sep)) continue;
      if (target === pluginDir || target.startsWith(pluginDir + sep)) continue;
      bad.push(`${relative(ROOT, file)} imports ${spec}`);
    }
  }
  return bad;
}

function pluginDirs(): string[] {
  return ['plugins', 'examples'].flatMap(top => {
    const base = join(ROOT, top);
    try { return readdirSync(base).map(n => join(base, n)).filter(p => statSync(p).isDirectory()); } catch { return []; }
  });
}

test('plugins and examples import only sdk/ and their own files', () => {
  const dirs = pluginDirs();
  assert.ok(dirs.length > 0);
  assert.deepEqual(dirs.flatMap(violations), []);
});

test('the boundary check catches core/, another plugin and a path that climbs out', () => {
  const fake = join(ROOT, 'plugins', 'fake');
  const check = (spec: string) => {
    const target = resolve(join(fake, 'src'), spec);
    return target === SDK || target.startsWith(SDK + sep) || target.startsWith(fake + sep);
  };
  assert.equal(check('../../../core/kernel'), false);
  assert.equal(check('../../memory/src/store'), false);
  assert.equal(check('../../../sdk'), true);
  assert.equal(check('./store'), true);
  assert.deepEqual(specifiers(`import { a } from '../../core/x';\nconst b = require("../other");\nexport * from './y';\nconst c = await import('../../z');`), ['../../core/x', '../other', './y', '../../z']);
});
