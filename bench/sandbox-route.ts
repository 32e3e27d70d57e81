/**
 * A route served by a sandboxed plugin against the same plugin in-process, one run each, 50
 * connections for 10 s (goal: ≥ 0.5× the in-process throughput, p99 < 5 ms).
 */
import { autocannon, log, round } from './_lib';
import { pingKernel } from './_sandboxed';
import { treeCpuMs } from '../core/plugins/sandboxed/cpu-quota';

async function measure(isolation: 'in-process' | 'sandbox') {
  const k = await pingKernel(isolation);
  try {
    const opts = { url: `${k.baseUrl}/api/ping/ping`, connections: 50, headers: { authorization: `Bearer ${k.adminToken}` } };
    await autocannon({ ...opts, duration: 2 });
    // CPU a request, which a loaded machine changes less than throughput: this process (kernel and
    // load generator) and the processes below it (the sandboxed plugin's), from /proc.
    const own = process.cpuUsage();
    const below = treeCpuMs(process.pid);
    const r = await autocannon({ ...opts, duration: 10 });
    const used = process.cpuUsage(own);
    const ownUs = used.user + used.system;
    const belowUs = (treeCpuMs(process.pid) - below) * 1000 - ownUs;
    const n = r.requests.total || 1;
    log(`${isolation}: ${r.requests.average} req/s, p99 ${r.latency.p99} ms`);
    return { rps: r.requests.average, p99: r.latency.p99, p50: r.latency.p50, failed: r.errors + r.non2xx + r.timeouts, kernelUs: ownUs / n, pluginUs: Math.max(0, belowUs / n) };
  } finally { await k.stop(); }
}

async function main() {
  const inproc = await measure('in-process');
  const boxed = await measure('sandbox');
  console.log(JSON.stringify({
    bench: 'sandbox-route', connections: 50,
    in_process_rps: round(inproc.rps, 0), in_process_p99_ms: inproc.p99,
    sandbox_rps: round(boxed.rps, 0), sandbox_p50_ms: boxed.p50, sandbox_p99_ms: boxed.p99, sandbox_failed: boxed.failed,
    ratio: round(boxed.rps / inproc.rps, 2), goal_ratio: 0.5, goal_p99_ms: 5,
    in_process_cpu_us_per_request: round(inproc.kernelUs, 0), sandbox_kernel_cpu_us_per_request: round(boxed.kernelUs, 0), sandbox_plugin_cpu_us_per_request: round(boxed.pluginUs, 0),
    load_average: require('node:os').loadavg().map((l: number) => round(l, 1)),
  }));
}
main().catch(err => { console.error(err); process.exit(1); });
