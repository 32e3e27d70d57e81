import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { API_DOC, fetchOpenApi, renderApiDocs } from '../../scripts/gen-api-docs';

test('docs/api.md is current with /api/openapi.json of every registry plugin (else: npm run docs)', async () => {
  const { spec, order } = await fetchOpenApi();
  const fresh = renderApiDocs(spec, order);
  for (const [path, methods] of Object.entries(spec.paths as Record<string, object>)) {
    for (const m of Object.keys(methods)) assert.ok(fresh.includes(`| ${m.toUpperCase()} | \`${path}\` |`), `${m} ${path} is listed`);
  }
  assert.equal(fresh, readFileSync(API_DOC, 'utf8'), 'docs/api.md is stale: run `npm run docs` and commit it');
});
