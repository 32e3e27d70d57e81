/**
 * Streaming through /v1/chat/completions from a fake OpenAI-compatible upstream vs the same
 * upstream directly, in the same run: throughput (chunks/s over many streamed completions) and
 * time to first token. Targets: ratio >= 0.9, added TTFT < 5 ms median.
 * The kernel and the fake upstream each run as their own process: on two cores, a server sharing
 * the load generator's event loop measures the generator as much as the server.
 */
import { join } from 'node:path';
import { readFileSync, rmSync } from 'node:fs';
import { ROOT, log, median, registryWith, spawnServer, tempDataDir } from './_lib';

/** utime + stime of a process in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}
const CHUNKS = 100;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100);
/** Pacing of the fake upstream: 1 ms a token, still 10-50x faster than real models. */
const CHUNK_DELAY_MS = Number(process.env.BENCH_CHUNK_DELAY_MS ?? 1);
const ROUNDS = 3;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

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
  log(`${label}: ${Math.round(chunks / seconds)} chunks/s, ttft median ${ttfts[ttfts.length >> 1].toFixed(2)} ms`);
  return { chunksPerSecond: chunks / seconds, ttftMedianMs: ttfts[ttfts.length >> 1] };
}

async function main() {
  const dataDir = tempDataDir('proxy');
  const token = 'plt_bench_' + 'x'.repeat(24);
  const fake = await spawnServer([join(ROOT, 'bench', '_fake-openai.js')], { BENCH_CHUNK_DELAY_MS: String(CHUNK_DELAY_MS) });
  const registry = registryWith(dataDir, [
    { id: 'agents', path: join(ROOT, 'plugins', 'agents'), config: { openai: { baseUrl: fake.baseUrl, model: 'fake-model' } } },
    { id: 'openai-api', path: join(ROOT, 'plugins', 'openai-api') },
  ]);
  // BENCH_KERNEL_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the kernel process.
  const nodeArgs = (process.env.BENCH_KERNEL_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const kernel = await spawnServer([...nodeArgs, join(ROOT, 'bin', 'plinth.js'), 'start'], {
    PLINTH_PORT: '0', PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry, PLINTH_ADMIN_TOKEN: token, PLINTH_WATCH: '0', PLINTH_LOG_LEVEL: 'warn',
  });
  try {
    const proxiedRun = async (label: string) => {
      const before = cpuMs(kernel.proc.pid!);
      const r = await run(label, `${kernel.baseUrl}/v1/chat/completions`, token, 'openai/fake-model');
      return { ...r, kernelCpuMsPerRequest: (cpuMs(kernel.proc.pid!) - before) / REQUESTS };
    };
    // warm-up both paths (JIT, connection pools), then alternate to share any drift fairly
    await run('warm-up direct', `${fake.baseUrl}/chat/completions`, undefined, 'fake-model');
    await proxiedRun('warm-up proxied');
    // Alternating rounds share any drift of a busy machine fairly; medians over the rounds.
    const directs = [], proxieds = [];
    for (let i = 0; i < ROUNDS; i++) {
      directs.push(await run('direct', `${fake.baseUrl}/chat/completions`, undefined, 'fake-model'));
      proxieds.push(await proxiedRun('proxied'));
    }
    const d = median(directs.map(r => r.chunksPerSecond));
    const p = median(proxieds.map(r => r.chunksPerSecond));
    const dT = median(directs.map(r => r.ttftMedianMs));
    const pT = median(proxieds.map(r => r.ttftMedianMs));
    const cpu = median(proxieds.map(r => r.kernelCpuMsPerRequest));
    console.log(JSON.stringify({
      requests: REQUESTS * ROUNDS, rounds: ROUNDS, chunkDelayMs: CHUNK_DELAY_MS, chunksPerRequest: CHUNKS, concurrency: CONCURRENCY,
      directChunksPerSecond: Math.round(d), proxiedChunksPerSecond: Math.round(p), throughputRatio: +(p / d).toFixed(3),
      directTtftMedianMs: +dT.toFixed(2), proxiedTtftMedianMs: +pT.toFixed(2), addedTtftMedianMs: +(pT - dT).toFixed(2),
      kernelCpuMsPerStream: +cpu.toFixed(2),
      meetsThroughput: p / d >= 0.9, meetsTtft: pT - dT < 5,
    }));
  } finally {
    await kernel.stop();
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
main().catch(err => { console.error(err); process.exit(1); });
