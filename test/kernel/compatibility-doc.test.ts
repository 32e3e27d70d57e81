/**
 * docs/compatibility.md stays in step with the server: every Plinth route it names (the second
 * column of its tables) exists in /api/openapi.json of a kernel running every registry plugin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchOpenApi } from '../../scripts/gen-api-docs';

const DOC = join(__dirname, '..', '..', 'docs', 'compatibility.md');

/** `METHOD /path` in the Plinth column of every table row, with `:param` as OpenAPI's `{param}`. */
export function plinthRoutes(markdown: string): Array<{ method: string; path: string; line: number }> {
  const out: Array<{ method: string; path: string; line: number }> = [];
  markdown.split('\n').forEach((row, i) => {
    if (!row.startsWith('| `')) return;
    const cells = row.split(/(?<!\\)\|/).map(c => c.trim());
    for (const m of cells[2]?.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/[^`\s?]*)`/g) ?? []) {
      out.push({ method: m[1].toLowerCase(), path: m[2].replace(/:([A-Za-z0-9_]+)/g, '{$1}'), line: i + 1 });
    }
  });
  return out;
}

test('every Plinth route named in docs/compatibility.md is in /api/openapi.json', async () => {
  const routes = plinthRoutes(readFileSync(DOC, 'utf8'));
  assert.ok(routes.length > 40, `the document names Plinth routes (${routes.length})`);
  const { spec } = await fetchOpenApi();
  const paths = spec.paths as Record<string, Record<string, unknown>>;
  const missing = routes.filter(r => !paths[r.path]?.[r.method]).map(r => `line ${r.line}: ${r.method.toUpperCase()} ${r.path}`);
  assert.deepEqual(missing, [], 'routes named in docs/compatibility.md that the server does not have');
  // The check can fail: a route that does not exist is caught.
  assert.equal(paths['/api/no-such-route'], undefined);
  assert.equal(plinthRoutes('| `GET /x` | `GET /api/jobs/:id` | x |')[0].path, '/api/jobs/{id}');
});
