/** Idle resident memory of the server with every plugin of plugin-registry.json. Goal: < 150 MB. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, round, spawnServer, tempDataDir } from './_lib';

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find(l => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

async function main() {
  const dataDir = tempDataDir('rss');
  const token = 'plt_bench_rss_token';
  const server = await spawnServer([join(ROOT, 'bin', 'plinth.js'), 'start'], { PLINTH_PORT: '0', PLINTH_DATA_DIR: dataDir, PLINTH_ADMIN_TOKEN: token, PLINTH_LOG_LEVEL: 'warn' });
  try {
    const list = await (await fetch(`${server.baseUrl}/api/plugins`, { headers: { authorization: `Bearer ${token}` } })).json() as any;
    // A little traffic first, then let it settle: idle means after start-up work is done.
    for (let i = 0; i < 50; i++) await fetch(`${server.baseUrl}/api/health`);
    await new Promise(r => setTimeout(r, 3000));
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) { samples.push(rssMb(server.proc.pid!)); await new Promise(r => setTimeout(r, 400)); }
    console.log(JSON.stringify({
      bench: 'kernel-idle-rss',
      rss_mb: round(Math.max(...samples), 1), goal_mb: 150,
      plugins: list.items.map((p: any) => `${p.id}:${p.status}`),
      watch: true,
    }));
  } finally {
    await server.stop();
  }
}

main().catch(err => { console.error(err); process.exit(1); });
