/**
 * Asks end to end with 20 peers in tmux panes (a private tmux server): ask → injected into the
 * recipient's pane → its agent acks with a message → the reply injected into the asker's pane →
 * the ask closed. Each peer asks the next one; BENCH_ASKS asks in all, BENCH_CONCURRENCY at once.
 * Latency is measured from POST /api/ask to the ask closed with its reply pushed (the waiting
 * POST /api/asks/:cid/wait returns). Prints one JSON line: p50/p99 ms and asks per second.
 */
import { createTestKernel } from 'plinth/testing';
import { join } from 'node:path';
import { TmuxServer, until } from '../plugins/mesh/test/tmux-harness';
import { log, percentile, round } from './_lib';

const PEERS = Number(process.env.BENCH_PEERS ?? 20);
const ASKS = Number(process.env.BENCH_ASKS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);

async function main() {
  const k = await createTestKernel({ plugins: [{ path: join(__dirname, '..', 'plugins', 'mesh'), config: { sweepMs: 5000, pingMs: 5000 } }] });
  const tmux = new TmuxServer();
  try {
    const alice = await k.createUser();
    const panes = Array.from({ length: PEERS }, (_, i) => tmux.startAgent(`p${i}`, { url: k.baseUrl, token: alice.token }));
    const peers: any[] = await until(async () => {
      const items = (await k.request('GET', '/api/peers', { token: alice.token })).body.items.filter((p: any) => p.inbound === 'connected');
      return items.length === PEERS && items;
    }, 120_000, `${PEERS} peers online`);
    log(`${PEERS} peers online in ${panes.length} panes`);
    const latencies: number[] = [];
    let next = 0;
    let failures = 0;
    const worker = async () => {
      for (let n = next++; n < ASKS; n = next++) {
        const from = peers[n % PEERS];
        const to = peers[(n + 1) % PEERS];
        const t0 = performance.now();
        const asked = await k.request('POST', '/api/ask', { token: alice.token, body: { from: from.id, to: to.id, text: `question ${n}` } });
        if (asked.status !== 201) { failures++; continue; }
        const done = await k.request('POST', `/api/asks/${asked.body.correlation_id}/wait`, { token: alice.token, body: { timeout_ms: 50_000 } });
        if (done.body.close_reason !== 'ack_with_message' || done.body.reply_via !== 'push') { failures++; continue; }
        latencies.push(performance.now() - t0);
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - start) / 1000;
    process.stdout.write(JSON.stringify({
      bench: 'mesh-asks', peers: PEERS, asks: ASKS, concurrency: CONCURRENCY, failures,
      p50_ms: round(percentile(latencies, 50)), p99_ms: round(percentile(latencies, 99)), asks_per_s: round(latencies.length / seconds),
    }) + '\n');
  } finally {
    tmux.stop();
    await k.stop();
  }
}

main().catch(err => { console.error(err); process.exit(1); });
