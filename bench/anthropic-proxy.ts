/**
 * Streaming through /anthropic/v1/messages from a fake Anthropic Messages API vs the same upstream
 * directly, in the same run (as agents-proxy does for /v1): the kernel parses the upstream's events
 * in the agents plugin's anthropic provider and writes its own. Targets: ratio >= 0.9, added TTFT < 5 ms.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { ROOT, registryWith, spawnServer, tempDataDir } from './_lib';
import { CHUNK_DELAY_MS, PROMPT, compareStreaming } from './_streaming-proxy';

async function main() {
  const dataDir = tempDataDir('anthropic-proxy');
  const token = 'plt_bench_' + 'x'.repeat(24);
  const fake = await spawnServer([join(ROOT, 'bench', '_fake-anthropic.js')], { BENCH_CHUNK_DELAY_MS: String(CHUNK_DELAY_MS) });
  const registry = registryWith(dataDir, [
    { id: 'agents', path: join(ROOT, 'plugins', 'agents'), config: { anthropic: { baseUrl: fake.baseUrl, apiKey: 'sk-ant-bench', models: ['fake-claude'] } } },
    { id: 'anthropic-api', path: join(ROOT, 'plugins', 'anthropic-api') },
  ]);
  const nodeArgs = (process.env.BENCH_KERNEL_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const kernel = await spawnServer([...nodeArgs, join(ROOT, 'bin', 'plinth.js'), 'start'], {
    PLINTH_PORT: '0', PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry, PLINTH_ADMIN_TOKEN: token, PLINTH_WATCH: '0', PLINTH_LOG_LEVEL: 'warn',
  });
  try {
    const body = (model: string) => ({ model, max_tokens: 1024, stream: true, messages: [{ role: 'user', content: PROMPT }] });
    const isContent = (frame: string) => frame.includes('"text_delta","text":"w');
    const figures = await compareStreaming(
      { url: `${fake.baseUrl}/v1/messages`, headers: { 'x-api-key': 'sk-ant-bench', 'anthropic-version': '2023-06-01' }, body: body('fake-claude'), isContent },
      { url: `${kernel.baseUrl}/anthropic/v1/messages`, headers: { 'x-api-key': token, 'anthropic-version': '2023-06-01' }, body: body('anthropic/fake-claude'), isContent },
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
