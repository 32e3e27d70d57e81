/**
 * Streaming through /v1/chat/completions from a fake OpenAI-compatible upstream vs the same
 * upstream directly, in the same run: throughput (chunks/s over many streamed completions) and
 * time to first token. Targets: ratio >= 0.9, added TTFT < 5 ms median.
 */
import { join } from 'node:path';
import { createTestKernel } from '../sdk/testing';
import { startFakeOpenAi } from '../plugins/agents/test/fake-openai';

const CHUNKS = 100;
const REQUESTS = 100;
/** Pacing of the fake upstream: 1 ms a token, still 10-50x faster than real models. */
const CHUNK_DELAY_MS = Number(process.env.BENCH_CHUNK_DELAY_MS ?? 1);
const CONCURRENCY = 8;

async function streamOnce(url: string, token: string | undefined, model: string): Promise<{ ttft: number; chunks: number }> {
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: Array.from({ length: CHUNKS }, (_, i) => `w${i} `).join('') }] }),
  });
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  let ttft = -1;
  let chunks = 0;
  const dec = new TextDecoder();
  let buf = '';
  for await (const c of res.body as any as AsyncIterable<Uint8Array>) {
    buf += dec.decode(c, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (frame.includes('"content":"w')) {
        if (ttft < 0) ttft = performance.now() - started;
        chunks++;
      }
    }
  }
  if (chunks !== CHUNKS) throw new Error(`expected ${CHUNKS} chunks, got ${chunks}`);
  return { ttft, chunks };
}

async function run(label: string, url: string, token: string | undefined, model: string) {
  const ttfts: number[] = [];
  let chunks = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) {
      next++;
      const r = await streamOnce(url, token, model);
      ttfts.push(r.ttft);
      chunks += r.chunks;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  ttfts.sort((a, b) => a - b);
  process.stderr.write(`${label}: ${Math.round(chunks / seconds)} chunks/s, ttft median ${ttfts[ttfts.length >> 1].toFixed(2)} ms\n`);
  return { chunksPerSecond: chunks / seconds, ttftMedianMs: ttfts[ttfts.length >> 1] };
}

async function main() {
  const fake = await startFakeOpenAi({ chunkDelayMs: CHUNK_DELAY_MS });
  const k = await createTestKernel({
    plugins: [{ path: join(__dirname, '..', 'plugins', 'agents'), config: { openai: { baseUrl: fake.baseUrl, model: 'fake-model' } } }, { path: join(__dirname, '..', 'plugins', 'openai-api') }],
  });
  try {
    const { token } = await k.createUser();
    // warm-up both paths (JIT, connection pools), then alternate to share any drift fairly
    await run('warm-up direct', `${fake.baseUrl}/chat/completions`, undefined, 'fake-model');
    await run('warm-up proxied', `${k.baseUrl}/v1/chat/completions`, token, 'openai/fake-model');
    const direct = await run('direct', `${fake.baseUrl}/chat/completions`, undefined, 'fake-model');
    const proxied = await run('proxied', `${k.baseUrl}/v1/chat/completions`, token, 'openai/fake-model');
    const direct2 = await run('direct', `${fake.baseUrl}/chat/completions`, undefined, 'fake-model');
    const proxied2 = await run('proxied', `${k.baseUrl}/v1/chat/completions`, token, 'openai/fake-model');
    const d = (direct.chunksPerSecond + direct2.chunksPerSecond) / 2;
    const p = (proxied.chunksPerSecond + proxied2.chunksPerSecond) / 2;
    const dT = (direct.ttftMedianMs + direct2.ttftMedianMs) / 2;
    const pT = (proxied.ttftMedianMs + proxied2.ttftMedianMs) / 2;
    console.log(JSON.stringify({
      requests: REQUESTS * 2, chunkDelayMs: CHUNK_DELAY_MS, chunksPerRequest: CHUNKS, concurrency: CONCURRENCY,
      directChunksPerSecond: Math.round(d), proxiedChunksPerSecond: Math.round(p), throughputRatio: +(p / d).toFixed(3),
      directTtftMedianMs: +dT.toFixed(2), proxiedTtftMedianMs: +pT.toFixed(2), addedTtftMedianMs: +(pT - dT).toFixed(2),
      meetsThroughput: p / d >= 0.9, meetsTtft: pT - dT < 5,
    }));
  } finally {
    await k.stop();
    await fake.close();
  }
}
main().catch(err => { console.error(err); process.exit(1); });
