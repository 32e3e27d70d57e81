/**
 * Every route of every registry plugin, fed bad input: unknown ids, oversized ids, bodies that
 * fail their schema, malformed JSON. None may answer 5xx or a non-JSON error — bad input gets a
 * clear 4xx (the bar: "every bad input gets a clear error and changes nothing").
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { ROOT } from './helpers';

let k: TestKernel;
before(async () => {
  const registry = JSON.parse(readFileSync(join(ROOT, 'plugin-registry.json'), 'utf8')).plugins;
  k = await createTestKernel({ plugins: registry.filter((p: any) => p.enabled !== false).map((p: any) => ({ path: join(ROOT, p.path), config: p.config })) });
});
after(() => k?.stop());

// Protocol endpoints answer in their own protocol's error shape (OpenAI's and Anthropic's are
// checked as such); SSE streams stay open by design.
// JSON nested 100,000 deep (~200 KB): parses in V8, then overflows the stack of whatever walks it.
const DEEP = `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;

const SKIP = [/^\/mcp$/, /^\/a2a$/, /\/stream$/, /\/events\/stream$/, /^\/dashboard/, /^\/api\/questions\/ask-blocking$/];

test('no route answers bad input with a 5xx', { timeout: 120_000 }, async () => {
  const spec = (await k.request('GET', '/api/openapi.json', { token: null })).body;
  const failures: string[] = [];
  let calls = 0;
  for (const [path, ops] of Object.entries<any>(spec.paths)) {
    if (SKIP.some(re => re.test(path))) continue;
    for (const method of Object.keys(ops)) {
      const variants = [path.replace(/\{[^}]+\}/g, 'nope-does-not-exist'), path.replace(/\{[^}]+\}/g, 'x'.repeat(300))];
      for (const url of [...new Set(variants)]) {
        const bodies: Array<{ raw?: string; body?: unknown }> = method === 'get' ? [{}] : [{}, { body: { unexpected: [1, { deep: true }] } }, { raw: '{"broken": ' }, { body: 'a string' }, { raw: DEEP }];
        for (const b of bodies) {
          calls++;
          const ctrl = AbortSignal.timeout(10_000);
          const headers: Record<string, string> = { authorization: `Bearer ${k.adminToken}` };
          let body: string | undefined;
          if (b.raw !== undefined) { body = b.raw; headers['content-type'] = 'application/json'; }
          else if (b.body !== undefined) { body = JSON.stringify(b.body); headers['content-type'] = 'application/json'; }
          let status = 0;
          let text = '';
          try {
            const res = await fetch(k.baseUrl + url, { method: method.toUpperCase(), headers, body, signal: ctrl });
            status = res.status;
            text = await res.text();
          } catch (err) {
            failures.push(`${method.toUpperCase()} ${url} ${b.raw?.slice(0, 40) ?? JSON.stringify(b.body) ?? ''}: ${(err as Error).message}`);
            continue;
          }
          // A plugin that is not configured (no secrets) says so with a 503 and its code: not a crash.
          const unconfigured = status === 503 && /"code":"PLINTH_ERR_UNAVAILABLE"/.test(text);
          if (status >= 500 && !unconfigured) failures.push(`${method.toUpperCase()} ${url.slice(0, 80)} ${b.raw ?? JSON.stringify(b.body) ?? ''} → ${status} ${text.slice(0, 160)}`.replace(DEEP, '<deep>'));
          if (b.raw === DEEP && (status < 400 || status >= 500)) failures.push(`${method.toUpperCase()} ${url.slice(0, 80)} deeply nested → ${status}, expected a 4xx`);
          if (status >= 400 && !/^\{"error":\{"code":/.test(text) && !/^\{"error":\{"message"/.test(text) && !/^\{"type":"error","error":\{"type":/.test(text)) failures.push(`${method.toUpperCase()} ${url.slice(0, 80)} → ${status} without a JSON error body: ${text.slice(0, 100)}`);
        }
      }
    }
  }
  assert.ok(calls > 300, `only ${calls} calls made`);
  assert.deepEqual(failures, []);
});
