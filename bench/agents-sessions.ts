/** 200 concurrent streaming sessions (SSE, builtin provider, stored frames) complete with no error. */
import { join } from 'node:path';
import { createTestKernel } from '../testing';

const SESSIONS = 200;

async function main() {
  const k = await createTestKernel({ plugins: [{ path: join(__dirname, '..', 'plugins', 'agents') }] });
  try {
    const { token } = await k.createUser();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const ids: string[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const r = await fetch(`${k.baseUrl}/api/sessions`, { method: 'POST', headers, body: JSON.stringify({ agent: 'assistant' }) });
      ids.push(((await r.json()) as { id: string }).id);
    }
    const message = Array.from({ length: 50 }, (_, i) => `word${i}`).join(' ');
    const started = performance.now();
    const latencies: number[] = [];
    let errors = 0;
    let incomplete = 0;
    await Promise.all(ids.map(async id => {
      const t0 = performance.now();
      try {
        const res = await fetch(`${k.baseUrl}/api/sessions/${id}/messages`, { method: 'POST', headers: { ...headers, accept: 'text/event-stream' }, body: JSON.stringify({ message }) });
        const text = await res.text();
        if (res.status !== 200 || text.includes('event: error')) errors++;
        else if (!text.includes('event: done') || (text.match(/event: chunk/g) ?? []).length !== 50) incomplete++;
      } catch { errors++; }
      latencies.push(performance.now() - t0);
    }));
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    console.log(JSON.stringify({
      sessions: SESSIONS, chunksPerSession: 50, errors, incomplete, seconds: +seconds.toFixed(2),
      p50Ms: Math.round(latencies[latencies.length >> 1]), p99Ms: Math.round(latencies[Math.floor(latencies.length * 0.99)]),
      ok: errors === 0 && incomplete === 0,
    }));
  } finally {
    await k.stop();
  }
}
main().catch(err => { console.error(err); process.exit(1); });
