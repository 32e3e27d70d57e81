/**
 * Webhook ingest: Telegram updates POSTed as fast as autocannon can, acknowledged (stored,
 * deduped) while the agent turns and replies run behind; then every reply is counted at the fake
 * Bot API: none lost, none twice. Prints one JSON line.
 */
import { join } from 'node:path';
// autocannon ships no types.
const autocannon: any = require('autocannon');
import { createTestKernel } from '../sdk/testing';
import { startFakeBotApi } from '../plugins/channels/test/fake-apis';

const ROOT = join(__dirname, '..');
const TOKEN = '123456:bench';
const SECRET = 'bench_secret';
const TOTAL = Number(process.env.BENCH_UPDATES ?? 20000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

async function main() {
  const api = await startFakeBotApi(TOKEN);
  const k = await createTestKernel({
    plugins: [
      { path: join(ROOT, 'plugins', 'agents') },
      { path: join(ROOT, 'plugins', 'channels'), config: { defaultPolicy: 'open', delivery: { concurrency: Number(process.env.BENCH_DELIVERY_CONCURRENCY ?? 4), pollIntervalMs: 200, backoffBaseMs: 50 }, inbound: { concurrency: Number(process.env.BENCH_INBOUND_CONCURRENCY ?? 2) } } },
      { path: join(ROOT, 'plugins', 'telegram'), config: { apiBaseUrl: api.url, botToken: TOKEN, webhookSecret: SECRET } },
    ],
  });
  try {
    let n = 0;
    const body = (id: number) => JSON.stringify({
      update_id: id,
      message: { message_id: id, date: 1441645532, chat: { id: 1000 + (id % 500), type: 'private' }, from: { id: 1000 + (id % 500), first_name: 'Bench' }, text: `m${id}` },
    });
    process.stderr.write(`posting ${TOTAL} updates over ${CONNECTIONS} connections\n`);
    const started = Date.now();
    const result = await autocannon({
      url: `${k.baseUrl}/api/webhooks/telegram`, connections: CONNECTIONS, amount: TOTAL, method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      requests: [{ setupRequest: (req: any) => ({ ...req, body: body(++n) }) }],
    });
    const ingestMs = Date.now() - started;
    process.stderr.write(`ingest done in ${ingestMs} ms; waiting for replies\n`);
    const deadline = Date.now() + 150_000;
    while (api.delivered.length < TOTAL && Date.now() < deadline) await new Promise(r => setTimeout(r, 250));
    const drainedMs = Date.now() - started;
    await new Promise(r => setTimeout(r, 500));
    const texts = api.delivered.map(d => d.params.text as string);
    const unique = new Set(texts);
    let missing = 0;
    for (let i = 1; i <= TOTAL; i++) if (!unique.has(`m${i}`)) missing++;
    console.log(JSON.stringify({
      bench: 'channels-ingest', updates: TOTAL, connections: CONNECTIONS,
      ackPerSec: Math.round(result.requests.average), ackPerSecOverall: Math.round(TOTAL / (ingestMs / 1000)),
      latencyP50Ms: result.latency.p50, latencyP99Ms: result.latency.p99, latencyMaxMs: result.latency.max,
      non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts,
      repliesDelivered: texts.length, repliesUnique: unique.size, duplicates: texts.length - unique.size, lost: missing,
      replyThroughputPerSec: Math.round(texts.length / (drainedMs / 1000)), allAnsweredMs: drainedMs,
      target: { ackPerSec: 2000, p99Ms: 20 },
    }));
  } finally {
    await k.stop();
    await api.close();
  }
}

main().catch(err => { console.error(err); process.exit(1); });
