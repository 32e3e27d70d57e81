/**
 * Webhook ingest on PostgreSQL (issue 15), one run: Telegram updates POSTed through nginx
 * (deploy/nginx.conf, round-robin) to one kernel process, then to three on one database, as fast
 * as the connections allow; every update's reply counted at the fake Bot API (none lost, none
 * twice: the dedupe and the delivery claims are the database's). Prints one JSON line with the
 * acknowledged rate and p99 of each and their ratio. Needs nginx and PostgreSQL (the suite's).
 */
import { join } from 'node:path';
import { ROOT, log, round, spawnServer } from './_lib';
import { BOT_TOKEN, WEBHOOK_SECRET, telegramPoster, waitForReplies } from './_telegram-load';
import { NGINX, startKernelCluster } from '../test/helpers/cluster';

const PG = process.env.PLINTH_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';
const TOTAL = Number(process.env.BENCH_UPDATES ?? 6000);
const WARMUP = 1000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

async function ingest(kernels: number) {
  const api = await spawnServer([join(ROOT, 'bench', '_fake-bot-api.js')], { BENCH_BOT_TOKEN: BOT_TOKEN });
  const cluster = await startKernelCluster({
    postgresUrl: PG, size: kernels, env: { PLINTH_LOG_LEVEL: 'warn', PLINTH_WATCH: '0' },
    plugins: () => [
      { id: 'agents', path: join(ROOT, 'plugins', 'agents') },
      { id: 'channels', path: join(ROOT, 'plugins', 'channels'), config: { defaultPolicy: 'open', delivery: { concurrency: 4, pollIntervalMs: 200, backoffBaseMs: 50 }, inbound: { concurrency: 2 } } },
      { id: 'telegram', path: join(ROOT, 'plugins', 'telegram'), config: { apiBaseUrl: api.baseUrl, botToken: BOT_TOKEN, webhookSecret: WEBHOOK_SECRET } },
    ],
  });
  try {
    const { post } = telegramPoster(`${cluster.lb}/api/webhooks/telegram`, CONNECTIONS);
    await post(WARMUP);
    log(`${kernels} kernel(s): posting ${TOTAL} updates through nginx`);
    const started = Date.now();
    const result = await post(TOTAL);
    const ingestMs = Date.now() - started;
    const replies = await waitForReplies(api.baseUrl, WARMUP + TOTAL, 180_000);
    return {
      kernels, ackPerSec: Math.round(TOTAL / (ingestMs / 1000)), latencyP50Ms: result.latency.p50, latencyP99Ms: result.latency.p99,
      non2xx: result.non2xx, errors: result.errors, repliesDelivered: replies.delivered, duplicates: replies.duplicates, lost: replies.lost,
      allAnsweredMs: ingestMs + replies.waitedMs,
    };
  } finally {
    await cluster.stop();
    await api.stop();
  }
}

async function main() {
  if (!NGINX) throw new Error('nginx is not installed (apt-get install nginx-light)');
  const one = await ingest(1);
  log(JSON.stringify(one));
  const three = await ingest(3);
  log(JSON.stringify(three));
  process.stdout.write(JSON.stringify({
    bench: 'channels-ingest-cluster', database: 'postgres', updates: TOTAL, connections: CONNECTIONS, oneKernel: one, threeKernels: three,
    ratioThreeVsOne: round(three.ackPerSec / one.ackPerSec), loadAverage: require('node:os').loadavg().map((l: number) => round(l, 1)),
  }) + '\n');
}

main().catch(err => { console.error(err); process.exit(1); });
