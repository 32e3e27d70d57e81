import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { defineErrors, isPlinthError, kernelErrors } from 'plinth/sdk';
import { catalogues, codesUsed, ERRORS_DOC, mergeCatalogues, renderErrorDocs } from '../../scripts/gen-error-docs';
import { tempDir } from '../helpers/plugins';

const ROOT = join(__dirname, '..', '..');

test('every PLINTH_ERR_* code used in core/, sdk/, cli/, plugins/ and examples/ is in a catalogue, with one status', () => {
  const { entries, conflicts } = mergeCatalogues(catalogues());
  assert.deepEqual(conflicts, []);
  const known = new Set(entries.map(e => e.code));
  const used = codesUsed();
  assert.ok(used.size > 40, `found the codes (${used.size})`);
  const missing = [...used].filter(([code]) => !known.has(code)).map(([code, file]) => `${code} (${file})`);
  assert.deepEqual(missing, [], 'add these to sdk/error-catalogue.ts or the plugin\'s src/errors.ts');
  for (const e of entries) {
    assert.ok(e.status >= 400 && e.status <= 599, `${e.code} has an error status`);
    assert.ok(e.message && e.hint, `${e.code} has a message and a hint`);
  }
});

test('the check finds a code that no catalogue has', () => {
  const dir = tempDir('errors-');
  writeFileSync(join(dir, 'thrower.ts'), `throw new Error('PLINTH_ERR_NOWHERE_DEFINED');\n`);
  const used = codesUsed([relative(ROOT, dir)]);
  const known = new Set(mergeCatalogues(catalogues()).entries.map(e => e.code));
  assert.deepEqual([...used.keys()].filter(c => !known.has(c)), ['PLINTH_ERR_NOWHERE_DEFINED']);
});

test('docs/errors.md is the text generated from the catalogues (else: npm run docs)', () => {
  const { entries } = mergeCatalogues(catalogues());
  const fresh = renderErrorDocs(entries);
  for (const e of entries) assert.ok(fresh.includes(`| \`${e.code}\` | ${e.status} |`), `${e.code} is listed`);
  assert.equal(fresh, readFileSync(ERRORS_DOC, 'utf8'), 'docs/errors.md is stale: run `npm run docs` and commit it');
});

test('an error built from a catalogue has its status and default message, and keeps its cause out of the JSON body', () => {
  const cause = new Error('socket hang up');
  const e = kernelErrors.error('PLINTH_ERR_UNAVAILABLE', undefined, { cause, details: { retry: true } });
  assert.ok(isPlinthError(e));
  assert.equal(e.status, 503);
  assert.equal(e.message, kernelErrors.entries.PLINTH_ERR_UNAVAILABLE.message);
  assert.equal(e.cause, cause);
  assert.deepEqual(e.toJSON(), { error: { code: 'PLINTH_ERR_UNAVAILABLE', message: e.message, details: { retry: true } } });
  const own = defineErrors('demo', { PLINTH_ERR_DEMO_BROKEN: { status: 502, message: 'the demo upstream failed', hint: 'retry' } });
  const d = own.error('PLINTH_ERR_DEMO_BROKEN', 'upstream said 500');
  assert.deepEqual([d.status, d.code, d.message, d.cause], [502, 'PLINTH_ERR_DEMO_BROKEN', 'upstream said 500', undefined]);
});
