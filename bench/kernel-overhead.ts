/**
 * Kernel overhead: a plugin route through bearer auth + the route table + @koa/router, against a
 * bare Koa app with one route; the same autocannon load on each, alternating rounds, one run.
 * Goal: kernel throughput >= 0.85 x bare Koa.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { ROOT, autocannon, log, median, registryWith, round, spawnServer, tempDataDir } from './_lib';

/** utime + stime of a process in ms: CPU per request is steadier than throughput on a shared machine. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

const ROUNDS = 6;
const DURATION_S = 3;
const CONNECTIONS = 50;

async function main() {
  const dataDir = tempDataDir('overhead');
  const registry = registryWith(dataDir, [{ id: 'ping', path: join(ROOT, 'bench', 'fixtures', 'ping') }]);
  const token = 'plt_bench_' + 'x'.repeat(24);
  const kernel = await spawnServer([join(ROOT, 'bin', 'plinth.js'), 'start'], {
    PLINTH_PORT: '0', PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry, PLINTH_ADMIN_TOKEN: token, PLINTH_WATCH: '0', PLINTH_LOG_LEVEL: 'warn',
  });
  const bare = await spawnServer([join(ROOT, 'bench', '_bare-koa.js')]);
  const results = { kernel: [] as any[], bare: [] as any[] };
  try {
    const load = async (pid: number, url: string, headers: Record<string, string>) => {
      const before = cpuMs(pid);
      const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers });
      r.cpuUsPerRequest = ((cpuMs(pid) - before) * 1000) / r.requests.total;
      return r;
    };
    // Warm both (JIT, token cache) before measuring.
    await autocannon({ url: `${kernel.baseUrl}/api/ping/ping`, connections: 10, duration: 1, headers: { authorization: `Bearer ${token}` } });
    await autocannon({ url: `${bare.baseUrl}/api/ping/ping`, connections: 10, duration: 1 });
    for (let i = 0; i < ROUNDS; i++) {
      log(`round ${i + 1}/${ROUNDS}`);
      results.kernel.push(await load(kernel.proc.pid!, `${kernel.baseUrl}/api/ping/ping`, { authorization: `Bearer ${token}` }));
      results.bare.push(await load(bare.proc.pid!, `${bare.baseUrl}/api/ping/ping`, {}));
    }
  } finally {
    await kernel.stop();
    await bare.stop();
  }
  const rps = (rs: any[]) => median(rs.map(r => r.requests.average));
  const p99 = (rs: any[]) => median(rs.map(r => r.latency.p99));
  const errors = (rs: any[]) => rs.reduce((n, r) => n + r.errors + r.non2xx, 0);
  const cpu = (rs: any[]) => median(rs.map(r => r.cpuUsPerRequest));
  const kernelRps = rps(results.kernel);
  const bareRps = rps(results.bare);
  console.log(JSON.stringify({
    bench: 'kernel-overhead',
    kernel_rps: round(kernelRps, 0), bare_koa_rps: round(bareRps, 0), ratio: round(kernelRps / bareRps, 3), goal_ratio: 0.85,
    kernel_cpu_us_per_req: round(cpu(results.kernel), 1), bare_koa_cpu_us_per_req: round(cpu(results.bare), 1),
    cpu_ratio: round(cpu(results.bare) / cpu(results.kernel), 3),
    kernel_p99_ms: p99(results.kernel), bare_koa_p99_ms: p99(results.bare),
    errors: errors(results.kernel) + errors(results.bare),
    rounds: ROUNDS, duration_s: DURATION_S, connections: CONNECTIONS,
  }));
}

main().catch(err => { console.error(err); process.exit(1); });
