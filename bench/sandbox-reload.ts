/**
 * Reload of a sandboxed plugin under load: 100 reloads through the API while 10 connections keep
 * its route busy (goals: median < 300 ms, 0 failed requests, no growth in processes or kernel
 * memory after 100 reloads).
 */
import { log, median, percentile, round, startAutocannon } from './_lib';
import { descendantCount, pingKernel } from './_sandboxed';

const heapMb = () => { (global as any).gc?.(); (global as any).gc?.(); return process.memoryUsage().heapUsed / 1048576; };
const rssMb = () => process.memoryUsage().rss / 1048576;

async function main() {
  const k = await pingKernel('sandbox');
  const times: number[] = [];
  try {
    const reload = async () => {
      const started = performance.now();
      const r = await k.request('POST', '/api/plugins/ping/reload');
      if (r.status !== 200 || r.body.status !== 'active') throw new Error(`reload: ${r.status} ${r.text}`);
      times.push(performance.now() - started);
    };
    for (let i = 0; i < 10; i++) await reload();
    await new Promise(r => setTimeout(r, 500));
    const before = { procs: descendantCount(), heap: heapMb(), rss: rssMb() };
    const load = startAutocannon({ url: `${k.baseUrl}/api/ping/ping`, connections: 10, duration: 600, headers: { authorization: `Bearer ${k.adminToken}` } });
    times.length = 0;
    for (let i = 0; i < 100; i++) await reload();
    load.stop();
    const totals = await load.done;
    await new Promise(r => setTimeout(r, 1000));
    const after = { procs: descendantCount(), heap: heapMb(), rss: rssMb() };
    log(`reload median ${round(median(times))} ms; ${totals.requests.total} requests, ${totals.errors + totals.non2xx + totals.timeouts} failed`);
    console.log(JSON.stringify({
      bench: 'sandbox-reload', reloads: times.length, median_ms: round(median(times), 1), p90_ms: round(percentile(times, 90), 1), goal_median_ms: 300,
      requests_under_load: totals.requests.total, failed_requests: totals.errors + totals.non2xx + totals.timeouts, goal_failed: 0,
      processes_before: before.procs, processes_after: after.procs,
      kernel_heap_before_mb: round(before.heap, 1), kernel_heap_after_mb: round(after.heap, 1),
      kernel_rss_before_mb: round(before.rss, 1), kernel_rss_after_mb: round(after.rss, 1),
    }));
  } finally { await k.stop(); }
}
main().catch(err => { console.error(err); process.exit(1); });
