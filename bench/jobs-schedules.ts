// 10,000 recurring schedules on SQLite, each firing once a minute at its own second (about 167
// fires per second); fire lateness (fired − due) p99, goal < 100 ms. Prints one JSON line.
import { join } from 'node:path';
import { createTestKernel } from '../testing';

const ROOT = join(__dirname, '..');
const N = Number(process.env.BENCH_SCHEDULES ?? 10_000);
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };

async function main() {
  const k = await createTestKernel({
    keepData: true,
    plugins: [
      { path: join(ROOT, 'plugins', 'jobs'), config: { concurrency: 64, pollMs: 1000 } },
      { path: join(ROOT, 'plugins', 'schedules'), config: { pollMs: 1000 } },
      { path: join(ROOT, 'bench', 'fixtures', 'bench-noop') },
    ],
  });
  let windowStart = 0;
  try {
    process.stderr.write(`creating ${N} schedules\n`);
    let next = 0;
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < N) {
        const i = next++;
        const r = await k.request('POST', '/api/schedules', { body: { name: `s${i}`, cron: `${i % 60} * * * * *`, job: { kind: 'noop' } } });
        if (r.status !== 201) throw new Error(r.text);
      }
    }));
    process.stderr.write(`created in ${Date.now() - t0} ms; watching one minute of fires\n`);
    windowStart = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    await new Promise(r => setTimeout(r, windowStart + 60_000 - Date.now() + 1500));
  } finally {
    await k.stop();
  }
  const sqlite3 = require('sqlite3');
  const db = new sqlite3.Database(join(k.dataDir, 'plinth.db'));
  const rows: Array<{ due_ms: number; fired_ms: number; status: string }> = await new Promise((resolve, reject) =>
    db.all('SELECT due_ms, fired_ms, status FROM schedules_fires WHERE due_ms >= ? AND due_ms < ?', [windowStart, windowStart + 60_000], (e: any, r: any) => (e ? reject(e) : resolve(r))));
  db.close();
  require('node:fs').rmSync(k.dataDir, { recursive: true, force: true });
  const late = rows.map(r => Number(r.fired_ms) - Number(r.due_ms));
  process.stdout.write(JSON.stringify({
    bench: 'jobs-schedules', database: 'sqlite', schedules: N, firesInWindow: rows.length, expectedFires: N,
    fired: rows.filter(r => r.status === 'fired').length,
    latenessP50Ms: pct(late, 50), latenessP99Ms: pct(late, 99), latenessMaxMs: Math.max(...late),
    goal: { latenessP99Ms: 100 }, met: pct(late, 99) < 100,
  }) + '\n');
}

main().catch(err => { console.error(err); process.exit(1); });
