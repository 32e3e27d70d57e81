/**
 * Sandboxed plugin cold start: from enabling the plugin (a new process in the sandbox) to its
 * first request served, 20 times (goal: median < 300 ms). The first start, which also starts the
 * sandbox runtime's proxy, is reported apart.
 */
import { log, median, percentile, round } from './_lib';
import { pingKernel, servedWithin } from './_sandboxed';

async function main() {
  const first = performance.now();
  const k = await pingKernel('sandbox');
  await servedWithin(k, 10_000);
  const firstMs = performance.now() - first;
  const times: number[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      if ((await k.request('PUT', '/api/plugins/ping/toggle', { body: { enabled: false } })).status !== 200) throw new Error('disable failed');
      const started = performance.now();
      const r = await k.request('PUT', '/api/plugins/ping/toggle', { body: { enabled: true } });
      if (r.status !== 200) throw new Error(`enable: ${r.status} ${r.text}`);
      await servedWithin(k, 10_000);
      times.push(performance.now() - started);
    }
  } finally { await k.stop(); }
  log(`cold start median ${round(median(times))} ms`);
  console.log(JSON.stringify({
    bench: 'sandbox-cold-start', starts: times.length, median_ms: round(median(times), 1), p90_ms: round(percentile(times, 90), 1),
    first_kernel_start_ms: round(firstMs, 0), goal_median_ms: 300,
  }));
}
main().catch(err => { console.error(err); process.exit(1); });
