/** The plugin's server side over real HTTP: content types, caching, ETag, gzip, client routes, 404s. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { readBuildInfo, sourceHash } from '../src/bundle';

const PLUGIN = join(__dirname, '..');
let k: TestKernel;
before(async () => { k = await createTestKernel({ plugins: [{ path: join(PLUGIN, '..', 'accounts') }, { path: PLUGIN }] }); });
after(() => k.stop());

const get = (path: string, headers: Record<string, string> = {}) => fetch(k.baseUrl + path, { headers });

test('setup leaves a bundle built from the current sources', () => {
  const info = readBuildInfo(join(PLUGIN, 'dist'));
  assert.ok(info, 'dist/build.json and its files exist');
  assert.equal(info.sourceHash, sourceHash(PLUGIN));
});

test('index.html: HTML, revalidated by ETag (304), with a CSP; it answers client routes too', async () => {
  const res = await get('/dashboard');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/html/);
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.match(res.headers.get('content-security-policy')!, /default-src 'self'/);
  const html = await res.text();
  const etag = res.headers.get('etag')!;
  assert.ok(etag);
  assert.equal((await get('/dashboard', { 'if-none-match': etag })).status, 304);
  for (const route of ['/dashboard/', '/dashboard/chat/ses_123', '/dashboard/jobs']) {
    const r = await get(route);
    assert.equal(r.status, 200, route);
    assert.equal(await r.text(), html);
  }
});

test('hashed assets: right types, cached for a year, gzip when accepted and identical once unzipped', async () => {
  const info = readBuildInfo(join(PLUGIN, 'dist'))!;
  for (const [path, type] of [[info.entry.js, /^text\/javascript/], [info.entry.css[0], /^text\/css/]] as const) {
    const plain = await fetch(`${k.baseUrl}/dashboard/${path}`, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(plain.status, 200);
    assert.match(plain.headers.get('content-type')!, type);
    assert.equal(plain.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const body = Buffer.from(await plain.arrayBuffer());
    assert.deepEqual(body, readFileSync(join(PLUGIN, 'dist', path)));
    // Node's fetch would unzip for us; ask with node:http semantics through a raw header check instead.
    const zipped = await rawGet(`/dashboard/${path}`, { 'accept-encoding': 'gzip' });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.ok(zipped.body.length < body.length);
    assert.deepEqual(gunzipSync(zipped.body), body);
  }
});

test('a missing asset is a JSON 404, never index.html; other routes of the API are not taken', async () => {
  const r = await get('/dashboard/assets/main-OLD.js');
  assert.equal(r.status, 404);
  assert.equal(((await r.json()) as any).error.code, 'PLINTH_ERR_NOT_FOUND');
  assert.equal((await get('/dashboard/favicon.ico')).status, 404);
  assert.equal((await get('/api/health')).status, 200);
});

async function rawGet(path: string, headers: Record<string, string>): Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    http.get(k.baseUrl + path, { headers }, res => {
      const chunks: Buffer[] = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}
