/**
 * The cost of observability on the kernel-overhead load (a plugin route through bearer auth and the
 * route table, 50 connections): three kernels side by side — the observability plugin off; on
 * (the request observer counting every request, `/metrics` scraped every second during the load);
 * on with tracing, every request's span exported over OTLP/HTTP to a receiver on 127.0.0.1; and, to
 * tell the observer's cost from the scrapes', on without a scraper; and tracing with one request in
 * ten sampled (`OTEL_TRACES_SAMPLER=parentbased_traceidratio`), as a busy deployment would run it.
 * Rounds alternate the three so machine load affects each alike. Goal: each ≥ 0.95 × off.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { ROOT, autocannon, log, median, registryWith, round, spawnServer, tempDataDir, type Child } from './_lib';

const ROUNDS = 6;
const DURATION_S = 3;
const CONNECTIONS = 50;
const TOKEN = 'plt_bench_' + 'x'.repeat(24);

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function startKernel(name: string, observability: boolean, env: Record<string, string> = {}): Promise<Child> {
  const dataDir = tempDataDir(`observability-${name}`);
  const plugins = [{ id: 'ping', path: join(ROOT, 'bench', 'fixtures', 'ping') }];
  if (observability) plugins.push({ id: 'observability', path: join(ROOT, 'plugins', 'observability') });
  return spawnServer([join(ROOT, 'bin', 'plinth.js'), 'start'], {
    PLINTH_PORT: '0', PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registryWith(dataDir, plugins), PLINTH_ADMIN_TOKEN: TOKEN,
    PLINTH_WATCH: '0', PLINTH_LOG_LEVEL: 'warn', ...env,
  });
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function main() {
  const loadBefore = loadavg();
  const sink = await spawnServer([join(ROOT, 'bench', '_otlp-sink.js')]);
  const kernels: Record<string, Child> = {
    off: await startKernel('off', false),
    metrics: await startKernel('metrics', true),
    unscraped: await startKernel('unscraped', true),
    tracing: await startKernel('tracing', true, { OTEL_EXPORTER_OTLP_ENDPOINT: sink.baseUrl }),
    sampled: await startKernel('sampled', true, { OTEL_EXPORTER_OTLP_ENDPOINT: sink.baseUrl, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }),
  };
  const results: Record<string, any[]> = { off: [], metrics: [], unscraped: [], tracing: [], sampled: [] };
  let scrapes = 0;
  try {
    const headers = { authorization: `Bearer ${TOKEN}` };
    const load = async (name: string) => {
      const k = kernels[name];
      // A Prometheus scraper every second while the observability plugin is on.
      const scraper = name === 'off' || name === 'unscraped' ? undefined : setInterval(() => { void fetch(`${k.baseUrl}/metrics`).then(r => r.text()).then(() => { scrapes++; }); }, 1000);
      const before = cpuMs(k.proc.pid!);
      const r = await autocannon({ url: `${k.baseUrl}/api/ping/ping`, connections: CONNECTIONS, duration: DURATION_S, headers });
      clearInterval(scraper);
      r.cpuUsPerRequest = ((cpuMs(k.proc.pid!) - before) * 1000) / r.requests.total;
      return r;
    };
    for (const k of Object.values(kernels)) await autocannon({ url: `${k.baseUrl}/api/ping/ping`, connections: 10, duration: 1, headers });
    for (let i = 0; i < ROUNDS; i++) {
      log(`round ${i + 1}/${ROUNDS}`);
      // Rotate the order too, so no side always runs right after another.
      const order = Object.keys(results);
      for (let j = 0; j < order.length; j++) {
        const name = order[(i + j) % order.length];
        results[name].push(await load(name));
      }
    }
  } finally {
    for (const k of Object.values(kernels)) await k.stop();
  }
  const exported = await (await fetch(`${sink.baseUrl}/count`)).json() as { exports: number; bytes: number };
  await sink.stop();
  const rps = (name: string) => median(results[name].map(r => r.requests.average));
  const cpu = (name: string) => median(results[name].map(r => r.cpuUsPerRequest));
  const p99 = (name: string) => median(results[name].map(r => r.latency.p99));
  const errors = Object.values(results).flat().reduce((n, r) => n + r.errors + r.non2xx, 0);
  console.log(JSON.stringify({
    bench: 'observability-overhead',
    off_rps: round(rps('off'), 0), metrics_rps: round(rps('metrics'), 0), unscraped_rps: round(rps('unscraped'), 0), tracing_rps: round(rps('tracing'), 0), sampled_rps: round(rps('sampled'), 0),
    metrics_ratio: round(rps('metrics') / rps('off'), 3), unscraped_ratio: round(rps('unscraped') / rps('off'), 3), tracing_ratio: round(rps('tracing') / rps('off'), 3), sampled_ratio: round(rps('sampled') / rps('off'), 3), goal_ratio: 0.95,
    off_cpu_us_per_req: round(cpu('off'), 1), metrics_cpu_us_per_req: round(cpu('metrics'), 1), unscraped_cpu_us_per_req: round(cpu('unscraped'), 1), tracing_cpu_us_per_req: round(cpu('tracing'), 1), sampled_cpu_us_per_req: round(cpu('sampled'), 1),
    off_p99_ms: p99('off'), metrics_p99_ms: p99('metrics'), unscraped_p99_ms: p99('unscraped'), tracing_p99_ms: p99('tracing'), sampled_p99_ms: p99('sampled'),
    scrapes, otlp_exports: exported.exports, otlp_mb: round(exported.bytes / 1e6, 1), errors, loadavg_before: loadBefore, loadavg_after: loadavg(),
    rounds: ROUNDS, duration_s: DURATION_S, connections: CONNECTIONS,
  }));
}

main().catch(err => { console.error(err); process.exit(1); });
