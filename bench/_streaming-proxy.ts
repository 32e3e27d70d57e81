/**
 * Streaming through a kernel's compatible API vs the same fake upstream directly, in the same run
 * (agents-proxy for /v1, anthropic-proxy for /anthropic/v1): throughput (chunks/s over many
 * streamed answers) and time to first token, in alternating rounds, medians.
 */
import { readFileSync } from 'node:fs';
import { log, median } from './_lib';

export const CHUNKS = 100;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100);
/** Pacing of the fake upstream: 1 ms a token, still 10-50x faster than real models. */
export const CHUNK_DELAY_MS = Number(process.env.BENCH_CHUNK_DELAY_MS ?? 1);
const ROUNDS = 3;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

/** One side of the comparison: where to POST, with which headers and body, and what a content frame looks like. */
export interface StreamTarget { url: string; headers: Record<string, string>; body: unknown; isContent(frame: string): boolean }

/** The words the fake upstreams stream back, one a chunk. */
export const PROMPT = Array.from({ length: CHUNKS }, (_, i) => `w${i} `).join('');

/** utime + stime of a process in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function streamOnce(t: StreamTarget): Promise<{ ttft: number; chunks: number }> {
  const started = performance.now();
  const res = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', ...t.headers }, body: JSON.stringify(t.body) });
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
      if (t.isContent(frame)) {
        if (ttft < 0) ttft = performance.now() - started;
        chunks++;
      }
    }
  }
  if (chunks !== CHUNKS) throw new Error(`expected ${CHUNKS} chunks, got ${chunks}`);
  return { ttft, chunks };
}

async function run(label: string, t: StreamTarget) {
  const ttfts: number[] = [];
  let chunks = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) {
      next++;
      const r = await streamOnce(t);
      ttfts.push(r.ttft);
      chunks += r.chunks;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  ttfts.sort((a, b) => a - b);
  log(`${label}: ${Math.round(chunks / seconds)} chunks/s, ttft median ${ttfts[ttfts.length >> 1].toFixed(2)} ms`);
  return { chunksPerSecond: chunks / seconds, ttftMedianMs: ttfts[ttfts.length >> 1] };
}

/** Warms both paths, then alternates direct and proxied rounds; returns the JSON line's figures. */
export async function compareStreaming(direct: StreamTarget, proxied: StreamTarget, kernelPid: number) {
  const proxiedRun = async (label: string) => {
    const before = cpuMs(kernelPid);
    const r = await run(label, proxied);
    return { ...r, kernelCpuMsPerRequest: (cpuMs(kernelPid) - before) / REQUESTS };
  };
  // warm-up both paths (JIT, connection pools), then alternate to share any drift fairly
  await run('warm-up direct', direct);
  await proxiedRun('warm-up proxied');
  const directs = [], proxieds = [];
  for (let i = 0; i < ROUNDS; i++) {
    directs.push(await run('direct', direct));
    proxieds.push(await proxiedRun('proxied'));
  }
  const d = median(directs.map(r => r.chunksPerSecond));
  const p = median(proxieds.map(r => r.chunksPerSecond));
  const dT = median(directs.map(r => r.ttftMedianMs));
  const pT = median(proxieds.map(r => r.ttftMedianMs));
  const cpu = median(proxieds.map(r => r.kernelCpuMsPerRequest));
  return {
    requests: REQUESTS * ROUNDS, rounds: ROUNDS, chunkDelayMs: CHUNK_DELAY_MS, chunksPerRequest: CHUNKS, concurrency: CONCURRENCY,
    directChunksPerSecond: Math.round(d), proxiedChunksPerSecond: Math.round(p), throughputRatio: +(p / d).toFixed(3),
    directTtftMedianMs: +dT.toFixed(2), proxiedTtftMedianMs: +pT.toFixed(2), addedTtftMedianMs: +(pT - dT).toFixed(2),
    kernelCpuMsPerStream: +cpu.toFixed(2),
    meetsThroughput: p / d >= 0.9, meetsTtft: pT - dT < 5,
  };
}
