/**
 * Streaming through /v1/chat/completions from a fake OpenAI-compatible upstream vs the same
 * upstream directly, in the same run: throughput (chunks/s over many streamed completions) and
 * time to first token. Targets: ratio >= 0.9, added TTFT < 5 ms median.
 * The kernel and the fake upstream each run as their own process: on two cores, a server sharing
 * the load generator's event loop measures the generator as much as the server.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { ROOT, registryWith, spawnServer, tempDataDir } from './_lib';
import { CHUNK_DELAY_MS, PROMPT, compareStreaming } from './_streaming-proxy';

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
    const body = (model: string) => ({ model, stream: true, messages: [{ role: 'user', content: PROMPT }] });
    const isContent = (frame: string) => frame.includes('"content":"w');
    const figures = await compareStreaming(
      { url: `${fake.baseUrl}/chat/completions`, headers: {}, body: body('fake-model'), isContent },
      { url: `${kernel.baseUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${token}` }, body: body('openai/fake-model'), isContent },
      kernel.proc.pid!,
    );
    console.log(JSON.stringify(figures));
  } finally {
    await kernel.stop();
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
main().catch(err => { console.error(err); process.exit(1); });
