import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

const PLUGIN = join(__dirname, '..');

/** A local stand-in for api.frankfurter.app, answering its `GET /latest?from=&to=` format. */
let fake: Server;
let apiUrl: string;
let mode: 'ok' | 'down' | 'garbage' | 'slow' = 'ok';
const asked: string[] = [];
let k: TestKernel;

before(async () => {
  fake = createServer((req, res) => {
    asked.push(req.url!);
    const u = new URL(req.url!, 'http://x');
    if (mode === 'down') { res.writeHead(503).end(); return; }
    if (mode === 'garbage') { res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'); return; }
    if (mode === 'slow') { setTimeout(() => res.writeHead(200).end('{}'), 1500); return; }
    if (u.pathname !== '/latest') { res.writeHead(404).end(); return; }
    const table: Record<string, Record<string, number>> = { EUR: { USD: 1.0825, JPY: 161.2 }, USD: { EUR: 0.9238 } };
    const rate = table[u.searchParams.get('from')!]?.[u.searchParams.get('to')!];
    if (rate === undefined) { res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not found"}'); return; }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ amount: 1, base: u.searchParams.get('from'), date: '2026-11-20', rates: { [u.searchParams.get('to')!]: rate } }));
  });
  await new Promise<void>(r => fake.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  k = await createTestKernel({ plugins: [{ path: PLUGIN, config: { apiUrl, timeoutMs: 300 } }] });
});
after(async () => { await k.stop(); fake.closeAllConnections(); await new Promise(r => fake.close(r)); });

const convert = (body: unknown) => k.request('POST', '/api/plugins/exchange-rates/execute/convert', { body });

test('the tool calls the configured API and computes the conversion', async () => {
  const r = await convert({ from: 'EUR', to: 'USD', amount: 200 });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.result, { from: 'EUR', to: 'USD', amount: 200, rate: 1.0825, result: 216.5, date: '2026-11-20' });
  assert.equal(asked.at(-1), '/latest?from=EUR&to=USD');
  const tool = (await k.request('GET', '/api/tools')).body.items.find((t: any) => t.name === 'exchange-rates.convert');
  assert.equal(tool.risk, 'safe');
});

test('bad input never reaches the network; upstream failures are clear 4xx/503, never 500', async () => {
  const before = asked.length;
  assert.equal((await convert({ from: 'eur', to: 'USD', amount: 1 })).status, 400);
  assert.equal((await convert({ from: 'EUR', to: 'USD', amount: -1 })).status, 400);
  assert.equal(asked.length, before, 'validation happens before the call');
  const unknown = await convert({ from: 'EUR', to: 'XXX', amount: 1 });
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.error.message, /unknown currency/);
  for (const [m, re] of [['down', /answered 503/], ['garbage', /not a rate/], ['slow', /no answer in 300 ms/]] as const) {
    mode = m;
    const r = await convert({ from: 'EUR', to: 'USD', amount: 1 });
    assert.equal(r.status, 503, `${m}: ${r.text}`);
    assert.match(r.body.error.message, re);
  }
  mode = 'ok';
});

test('a config pointing at a host outside permissions.network fails the plugin at setup, with the reason', async () => {
  const other = await createTestKernel({ plugins: [{ path: PLUGIN, config: { apiUrl: 'https://rates.example.com' } }] });
  try {
    const p = (await other.request('GET', '/api/plugins/exchange-rates')).body;
    assert.equal(p.status, 'error');
    assert.match(JSON.stringify(p.error), /rates\.example\.com is not in permissions\.network/);
    assert.equal((await other.request('POST', '/api/plugins/exchange-rates/execute/convert', { body: { from: 'EUR', to: 'USD', amount: 1 } })).status, 404);
  } finally {
    await other.stop();
  }
});
