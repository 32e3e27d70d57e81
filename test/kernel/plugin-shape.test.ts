import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * Where a first-party plugin differs from the common shape, and why. Nothing else may differ.
 * - `extra`: top-level entries beside plugin.json, README.md, src/ and test/.
 * - `noSchemas`: why the plugin has no src/schemas.ts.
 */
export const SPECIAL: Record<string, { extra?: string[]; noSchemas?: string }> = {
  // The dashboard is a web app served by a plugin: its source is web/, build.ts bundles it into dist/ (git-ignored).
  dashboard: { extra: ['web', 'build.ts', 'dist'], noSchemas: 'its two routes serve static files and take no body, query or params' },
  observability: { noSchemas: 'its one route, GET /metrics, takes no body, query or params and answers Prometheus text' },
  'openai-api': { noSchemas: "requests are parsed in OpenAI's own error shape (openai-shapes.ts), not by the kernel's validator" },
  whatsapp: { noSchemas: "its webhook takes Meta's payloads, checked by signature and parsed by the adapter" },
};

/** Lines above which a module is split by job (the style guide's "each under ~300 lines, one job"). */
export const MAX_LINES = 300;
/** "Wiring only, a screen or two." */
export const MAX_INDEX_LINES = 100;

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap(name => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/**
 * What is wrong with a plugin folder's shape: `plugin.json`, `README.md`, `src/index.ts` (wiring
 * only: no route registered there), `src/routes.ts`, `src/schemas.ts`, `src/migrations.ts` when the
 * plugin opens storage (and the migrations nowhere else), modules under MAX_LINES, and tests in `test/`.
 */
export function shapeProblems(dir: string, special: { extra?: string[]; noSchemas?: string } = {}): string[] {
  const problems: string[] = [];
  const has = (p: string) => existsSync(join(dir, p));
  const allowed = new Set(['plugin.json', 'README.md', 'src', 'test', ...(special.extra ?? [])]);
  for (const name of readdirSync(dir)) if (!allowed.has(name)) problems.push(`unexpected ${name}`);
  for (const p of ['plugin.json', 'README.md', 'src/index.ts', 'src/routes.ts']) if (!has(p)) problems.push(`no ${p}`);
  if (!has('src/schemas.ts') && !special.noSchemas) problems.push('no src/schemas.ts');
  if (!files(join(dir, 'test')).some(f => f.endsWith('.test.ts'))) problems.push('no test/*.test.ts');

  const src = files(join(dir, 'src')).filter(f => f.endsWith('.ts') && !f.includes(`${join('src', 'generated')}`));
  const code = new Map(src.map(f => [relative(dir, f), readFileSync(f, 'utf8')]));
  const opensStorage = [...code.values()].some(c => /\bstorage\.open\(/.test(c));
  if (opensStorage && !has('src/migrations.ts')) problems.push('opens storage but has no src/migrations.ts');
  for (const [file, c] of code) {
    if (file !== join('src', 'migrations.ts') && /export const migrations\b/.test(c)) problems.push(`${file} defines migrations (they belong in src/migrations.ts)`);
    const lines = c.split('\n').length - (c.endsWith('\n') ? 1 : 0);
    if (lines > MAX_LINES) problems.push(`${file} has ${lines} lines (over ${MAX_LINES}: split it by job)`);
  }
  const index = code.get(join('src', 'index.ts'));
  if (index !== undefined) {
    if (/\bhttp\.(get|post|put|patch|delete)\(|\bws\.handle\(/.test(index)) problems.push('src/index.ts registers routes (they belong in src/routes.ts)');
    const lines = index.split('\n').length;
    if (lines > MAX_INDEX_LINES) problems.push(`src/index.ts has ${lines} lines (wiring is a screen or two: at most ${MAX_INDEX_LINES})`);
  }
  return problems;
}

test('every first-party plugin has the same shape (exceptions are listed in SPECIAL with the reason)', () => {
  const base = join(ROOT, 'plugins');
  const ids = readdirSync(base).filter(id => statSync(join(base, id)).isDirectory());
  assert.ok(ids.length >= 10);
  for (const id of Object.keys(SPECIAL)) assert.ok(ids.includes(id), `SPECIAL names ${id}, which is no plugin`);
  const problems = ids.flatMap(id => shapeProblems(join(base, id), SPECIAL[id]).map(p => `${id}: ${p}`));
  assert.deepEqual(problems, []);
});

test('the shape check catches routes in index.ts, missing files, stray migrations and long modules', () => {
  const fake = join(ROOT, '.test-tmp', 'shape', 'fake');
  const file = (name: string, code: string) => {
    mkdirSync(join(fake, name, '..'), { recursive: true });
    writeFileSync(join(fake, name), code);
  };
  rmSync(fake, { recursive: true, force: true });
  try {
    file('plugin.json', '{}');
    file('README.md', '# fake');
    file('src/index.ts', `export default definePlugin({ async setup({ http, storage }) {\n  await storage.open({ migrations });\n  http.get('/', {}, () => 1);\n} });\n`);
    file('src/store.ts', `export const migrations = [];\n` + 'const x = 1;\n'.repeat(MAX_LINES));
    file('notes.txt', '');
    assert.deepEqual(shapeProblems(fake), [
      'unexpected notes.txt', 'no src/routes.ts', 'no src/schemas.ts', 'no test/*.test.ts', 'opens storage but has no src/migrations.ts',
      `src/store.ts defines migrations (they belong in src/migrations.ts)`, `src/store.ts has ${MAX_LINES + 1} lines (over ${MAX_LINES}: split it by job)`,
      'src/index.ts registers routes (they belong in src/routes.ts)',
    ]);
    // The same folder in shape: nothing to report.
    rmSync(join(fake, 'notes.txt'));
    file('src/index.ts', `export default definePlugin({ async setup({ http, storage }) {\n  registerRoutes(http, await storage.open({ migrations }));\n} });\n`);
    file('src/store.ts', 'export class Store {}\n');
    file('src/migrations.ts', 'export const migrations = [];\n');
    file('src/routes.ts', 'export function registerRoutes() {}\n');
    file('src/schemas.ts', 'export const IdParams = {};\n');
    file('test/fake.test.ts', '');
    assert.deepEqual(shapeProblems(fake), []);
    assert.deepEqual(shapeProblems(join(fake), { noSchemas: 'why' }), []);
  } finally {
    rmSync(fake, { recursive: true, force: true });
  }
});
