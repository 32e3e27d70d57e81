import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = join(__dirname, '..', '..');

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

/** Contract ids a plugin may import as `plinth/contracts/<id>`: the plugins that have a `src/contract.ts`. */
function contractIds(): Set<string> {
  const base = join(ROOT, 'plugins');
  return new Set(readdirSync(base).filter(id => existsSync(join(base, id, 'src', 'contract.ts'))));
}

/**
 * What a plugin may import: its own files, `plinth/sdk`, another plugin's contract as
 * `plinth/contracts/<id>` (never its files), `plinth/testing` in its tests, and npm packages.
 */
export function violations(pluginDir: string, contracts = contractIds()): string[] {
  const bad: string[] = [];
  for (const file of sources(pluginDir)) {
    const inTests = file.startsWith(join(pluginDir, 'test') + sep);
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (spec === 'plinth/sdk') continue;
      if (spec === 'plinth/testing' && inTests) continue;
      const contract = /^plinth\/contracts\/([a-z][a-z0-9-]*)$/.exec(spec);
      if (contract && contracts.has(contract[1])) continue;
      if (spec === 'plinth' || spec.startsWith('plinth/')) { bad.push(`${relative(ROOT, file)} imports ${spec}`); continue; }
      if (!spec.startsWith('.') && !spec.startsWith('/')) continue;
      const target = resolve(dirname(file), spec);
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

test('plugins and examples import only plinth/sdk, plinth/contracts/* and their own files', () => {
  const dirs = pluginDirs();
  assert.ok(dirs.length > 0);
  assert.deepEqual(dirs.flatMap(dir => violations(dir)), []);
});

test('the boundary check catches core/, sdk/ by path, another plugin\'s files and a path that climbs out', () => {
  const fake = join(ROOT, '.test-tmp', 'boundary', 'plugins', 'fake');
  const file = (name: string, code: string) => {
    mkdirSync(join(fake, name, '..'), { recursive: true });
    writeFileSync(join(fake, name), code);
  };
  rmSync(fake, { recursive: true, force: true });
  file('src/index.ts', [
    `import { definePlugin } from 'plinth/sdk';`,
    `import { agentRuntimeRef } from 'plinth/contracts/agents';`,
    `import { store } from './store';`,
    `import { x } from '../../../core/kernel';`,
    `import { y } from '../../memory/src/memory-store';`,
    `import { z } from '../../../sdk';`,
    `import { t } from 'plinth/testing';`,
    `import { n } from 'plinth/contracts/nosuch';`,
    `import { k } from 'plinth/core/kernel';`,
  ].join('\n'));
  file('src/store.ts', `export const store = 1;`);
  file('test/fake.test.ts', `import { createTestKernel } from 'plinth/testing';\nimport { memoryRef } from 'plinth/contracts/memory';`);
  try {
    assert.deepEqual(violations(fake, new Set(['agents', 'memory'])).map(v => v.split(' imports ')[1]), [
      '../../../core/kernel', '../../memory/src/memory-store', '../../../sdk', 'plinth/testing', 'plinth/contracts/nosuch', 'plinth/core/kernel',
    ]);
  } finally {
    rmSync(fake, { recursive: true, force: true });
  }
  assert.deepEqual(specifiers(`import { a } from '../../core/x';\nconst b = require("../other");\nexport * from './y';\nconst c = await import('../../z');`), ['../../core/x', '../other', './y', '../../z']);
});

test('sdk/ imports nothing from core/, testing/ or a plugin, and exports no TypeORM symbol', () => {
  const sdk = join(ROOT, 'sdk');
  const bad: string[] = [];
  for (const file of sources(sdk)) {
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (spec === 'typeorm' || spec.startsWith('plinth/')) { bad.push(`${relative(ROOT, file)} imports ${spec}`); continue; }
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      if (!(target === sdk || target.startsWith(sdk + sep))) bad.push(`${relative(ROOT, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
  const exported = Object.keys(require(join(sdk, 'index.ts')));
  assert.ok(exported.includes('definePlugin'));
  assert.deepEqual(exported.filter(name => ['EntitySchema', 'DataSource', 'Repository', 'EntityManager'].includes(name)), []);
});
