import { Registry } from 'prom-client';
import type { ContributedMetric, Logger, MetricSample } from 'plinth/sdk';

/** How long a plugin's `collect` may take before the scrape goes on without it. */
const COLLECT_TIMEOUT_MS = 2_000;

/**
 * The metrics other plugins contribute through the kernel (`core.metrics`, listed by `core.stats`),
 * collected when scraped into a registry made for that scrape (the set changes as plugins come and
 * go). A collect that fails or hangs drops its metric from this scrape only, with a warning; a name
 * the kernel's own metrics use is skipped.
 */
export async function contributedText(metrics: ContributedMetric[], taken: (name: string) => boolean, nodeId: string, log: Logger): Promise<string> {
  if (!metrics.length) return '';
  const registry = new Registry();
  registry.setDefaultLabels({ node: nodeId });
  const collected = await Promise.all(metrics.map(async m => ({ m, samples: await collectBounded(m, log) })));
  for (const { m, samples } of collected) {
    if (!samples) continue;
    if (taken(m.name)) { log.warn('a contributed metric uses a name of the kernel\'s; skipped', { metric: m.name, contributor: m.plugin }); continue; }
    const family = { name: m.name, help: m.help, type: m.type, aggregator: 'sum', values: samples.map(s => ({ labels: s.labels ?? {}, value: s.value })) };
    registry.registerMetric({ ...family, get: () => family } as any);
  }
  return registry.metrics();
}

async function collectBounded(m: ContributedMetric, log: Logger): Promise<MetricSample[] | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${COLLECT_TIMEOUT_MS} ms`)), COLLECT_TIMEOUT_MS); });
    const samples = await Promise.race([Promise.resolve().then(() => m.collect()), timeout]);
    const labelNames = new Set(m.labelNames);
    return samples.filter(s => Number.isFinite(s.value) && Object.keys(s.labels ?? {}).every(l => labelNames.has(l)));
  } catch (err) {
    log.warn('collecting a contributed metric failed; left out of this scrape', { metric: m.name, contributor: m.plugin, err: String((err as Error)?.message ?? err) });
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
