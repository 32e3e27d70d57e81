/**
 * Event fan-out across kernels: two kernels on one PostgreSQL; a WebSocket client on B subscribed
 * to a topic; events published on A (transient and persisted), one every 5 ms; latency from
 * publish on A to arrival at the client on B. Goal: p99 < 50 ms. Needs PLINTH_TEST_POSTGRES_URL
 * (and, for the Redis figure, Redis on 127.0.0.1:6379).
 */
import { join } from 'node:path';
import WebSocket from 'ws';
import { createTestKernel } from 'plinth/testing';
import { log, percentile, round } from './_lib';

const N = 400;

async function measure(transport: 'postgres' | 'redis', persist: boolean) {
  const config = transport === 'redis' ? { redisUrl: process.env.PLINTH_REDIS_URL ?? 'redis://127.0.0.1:6379' } : {};
  const plugins = [{ path: join(__dirname, '..', 'plugins', 'cluster'), config }];
  const a = await createTestKernel({ plugins, database: 'postgres', settings: { logLevel: 'warn' } });
  const b = await createTestKernel({ plugins, databaseUrl: a.databaseUrl, settings: { adminToken: a.adminToken, logLevel: 'warn' } });
  const sent = new Map<number, number>();
  const lat: number[] = [];
  try {
    const ws = new WebSocket(b.baseUrl.replace('http', 'ws') + '/ws', { headers: { authorization: `Bearer ${a.adminToken}` } });
    await new Promise<void>((resolve, reject) => {
      ws.on('message', d => {
        const m = JSON.parse(String(d));
        if (m.type === 'subscribed') resolve();
        if (m.type === 'event') lat.push(performance.now() - sent.get(m.event.payload.i)!);
      });
      ws.once('open', () => ws.send(JSON.stringify({ type: 'subscribe', topics: ['bench.*'] })));
      ws.once('error', reject);
    });
    for (let i = 0; i < N; i++) {
      sent.set(i, performance.now());
      void a.events.publish('bench.tick', { i }, { persist });
      await new Promise(r => setTimeout(r, 5));
    }
    const end = Date.now() + 5000;
    while (lat.length < N && Date.now() < end) await new Promise(r => setTimeout(r, 20));
    ws.close();
  } finally {
    await b.stop();
    await a.stop();
  }
  return { transport, persist, received: lat.length, sent: N, p50Ms: round(percentile(lat, 50)), p99Ms: round(percentile(lat, 99)), maxMs: round(Math.max(...lat)) };
}

async function main() {
  if (!process.env.PLINTH_TEST_POSTGRES_URL) throw new Error('set PLINTH_TEST_POSTGRES_URL');
  const runs = [];
  for (const [t, p] of [['postgres', false], ['postgres', true], ['redis', false], ['redis', true]] as const) {
    log(`${t} persist=${p}`);
    runs.push(await measure(t, p));
  }
  console.log(JSON.stringify({ bench: 'cluster-fanout', goalP99Ms: 50, runs }));
}

main().catch(err => { console.error(err); process.exit(1); });
