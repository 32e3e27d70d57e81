/**
 * Hot reload, in one run:
 * - latency from writing a plugin file to the first response from the new code (goal: median < 150 ms),
 * - requests failed during 50 reloads under steady load (goal: 0),
 * - heap after 200 reloads against the heap after 10 (goal: within 10 MB).
 * The kernel runs in this process (for the heap figures); the file watcher is the real one.
 */
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestKernel } from '../testing';
import { ROOT, log, median, percentile, round, startAutocannon } from './_lib';

const source = (version: string) => `import { definePlugin } from 'plinth/sdk';

const VERSION = ${JSON.stringify(version)};

export default definePlugin({
  setup({ http, tools }) {
    http.get('/ping', { auth: 'user' }, () => ({ ok: true, version: VERSION }));
    http.get('/version', { auth: 'public', query: { type: 'object', properties: { x: { type: 'string' } } } }, () => ({ version: VERSION }));
    tools.register({ name: 'echo', description: 'echo', inputSchema: { type: 'object', properties: { text: { type: 'string' } } }, risk: 'safe', run: (i: any) => i });
  },
});
`;

function heapMb(): number {
  (global as any).gc?.();
  (global as any).gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

async function main() {
  if (!(global as any).gc) throw new Error('run with --expose-gc (npm run bench does)');
  // Inside the repository so that `plinth/sdk` resolves as it does for a real plugin.
  mkdirSync(join(ROOT, '.test-tmp'), { recursive: true });
  const dir = join(mkdtempSync(join(ROOT, '.test-tmp', 'bench-reload-')), 'ping');
  cpSync(join(ROOT, 'bench', 'fixtures', 'ping'), dir, { recursive: true });
  const file = join(dir, 'src', 'index.ts');
  writeFileSync(file, source('v0'));
  const k = await createTestKernel({ plugins: [{ path: dir }], watch: true });
  let n = 0;
  const version = async () => (await (await fetch(`${k.baseUrl}/api/ping/version`)).json() as any).version;
  const reloadByWrite = async () => {
    const v = `v${++n}`;
    const started = performance.now();
    writeFileSync(file, source(v));
    while ((await version()) !== v) {
      if (performance.now() - started > 5000) throw new Error(`${v} not served within 5 s`);
    }
    return performance.now() - started;
  };
  try {
    // 1. Latency, no load.
    const latencies: number[] = [];
    for (let i = 0; i < 30; i++) latencies.push(await reloadByWrite());
    log(`latency median ${round(median(latencies))} ms`);

    // 2. 50 reloads while autocannon keeps 10 connections busy on the reloading plugin's route.
    const load = startAutocannon({ url: `${k.baseUrl}/api/ping/ping`, connections: 10, duration: 60, headers: { authorization: `Bearer ${k.adminToken}` } });
    const underLoad: number[] = [];
    for (let i = 0; i < 50; i++) underLoad.push(await reloadByWrite());
    load.stop();
    const totals = await load.done;
    const inst = { requests: totals.requests.total, failed: totals.errors + totals.non2xx + totals.timeouts };
    log(`under load: ${inst.requests} requests, ${inst.failed} failed`);

    // 3. Heap: 200 reloads through the API (the same purge-and-load path as a file change).
    let heapAt10 = 0;
    for (let i = 1; i <= 200; i++) {
      const r = await k.request('POST', '/api/plugins/ping/reload');
      if (r.status !== 200) throw new Error(`reload ${i}: ${r.status} ${r.text}`);
      if (i === 10) { await new Promise(r => setTimeout(r, 200)); heapAt10 = heapMb(); }
    }
    await new Promise(r => setTimeout(r, 200));
    const heapAt200 = heapMb();
    console.log(JSON.stringify({
      bench: 'kernel-hot-reload',
      latency_median_ms: round(median(latencies), 1), latency_p90_ms: round(percentile(latencies, 90), 1), goal_median_ms: 150,
      under_load_latency_median_ms: round(median(underLoad), 1),
      reloads_under_load: 50, requests_under_load: inst.requests, failed_requests_under_load: inst.failed, goal_failed: 0,
      heap_after_10_reloads_mb: round(heapAt10, 1), heap_after_200_reloads_mb: round(heapAt200, 1),
      heap_growth_mb: round(heapAt200 - heapAt10, 2), goal_growth_mb: 10,
    }));
  } finally {
    await k.stop();
  }
}

main().catch(err => { console.error(err); process.exit(1); });
