/**
 * Cold start: from spawning `node bin/plinth.js start` with every plugin of plugin-registry.json
 * to the first 200 from /api/health. Goal: median < 600 ms (warm data dir). The first start on
 * an empty data dir (migrations, admin bootstrap) is reported beside it.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT, log, median, round, tempDataDir } from './_lib';

const RUNS = 7;

function freePort(): Promise<number> {
  return new Promise(resolve => {
    const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as any).port; s.close(() => resolve(p)); });
  });
}

/** CPU the server used to get there: steadier than wall time when other work shares the cores. */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

async function startOnce(dataDir: string): Promise<{ ms: number; cpuMs: number; plugins: string[] }> {
  const port = await freePort();
  const started = performance.now();
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'plinth.js'), 'start'], {
    cwd: ROOT, stdio: 'ignore',
    env: { PATH: process.env.PATH!, HOME: process.env.HOME!, PLINTH_PORT: String(port), PLINTH_DATA_DIR: dataDir, PLINTH_ADMIN_TOKEN: 'plt_bench_cold_start_token', PLINTH_WATCH: '0', PLINTH_LOG_LEVEL: 'warn' },
  });
  try {
    for (;;) {
      if (performance.now() - started > 30_000) throw new Error('no 200 from /api/health within 30 s');
      try {
        const r = await fetch(`http://127.0.0.1:${port}/api/health`);
        if (r.status === 200) break;
      } catch { /* not listening yet */ }
      await new Promise(r => setTimeout(r, 5));
    }
    const ms = performance.now() - started;
    const cpu = cpuMs(proc.pid!);
    const list = await (await fetch(`http://127.0.0.1:${port}/api/plugins`, { headers: { authorization: 'Bearer plt_bench_cold_start_token' } })).json() as any;
    return { ms, cpuMs: cpu, plugins: list.items.map((p: any) => `${p.id}:${p.status}`) };
  } finally {
    await new Promise<void>(r => { proc.once('exit', () => r()); proc.kill('SIGTERM'); });
  }
}

async function main() {
  const dataDir = tempDataDir('cold');
  const first = await startOnce(dataDir);
  log(`first start ${round(first.ms)} ms: ${first.plugins.join(' ')}`);
  const warm: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await startOnce(dataDir);
    warm.push(r.ms);
    cpu.push(r.cpuMs);
  }
  console.log(JSON.stringify({
    bench: 'kernel-cold-start',
    median_ms: round(median(warm), 0), goal_ms: 600, median_server_cpu_ms: round(median(cpu), 0), min_ms: round(Math.min(...warm), 0), max_ms: round(Math.max(...warm), 0), runs: RUNS,
    first_start_empty_data_dir_ms: round(first.ms, 0),
    plugins: first.plugins,
  }));
}

main().catch(err => { console.error(err); process.exit(1); });
