import { PlinthError, type ContributedMetric, type MetricDefinition, type MetricsRegistry } from '../sdk';
import type { Generation } from './plugins/generation';

/**
 * The metrics plugins contribute (`core.metrics`), held for whatever serves them (`core.stats`).
 * Names live in the plugin's namespace (`plinth_<id>…`), so two plugins never clash. While a
 * reload overlaps two generations both hold the name; the newer one is listed, and each one's
 * disposal takes away only its own.
 */
export class PluginMetrics {
  private readonly held: ContributedMetric[] = [];

  list(): ContributedMetric[] {
    const byName = new Map<string, ContributedMetric>();
    for (const m of this.held) byName.set(m.name, m);
    return [...byName.values()];
  }

  forGeneration(gen: Generation): MetricsRegistry {
    const add = (type: ContributedMetric['type']) => (def: MetricDefinition) => {
      const prefix = `plinth_${gen.pluginId.replace(/-/g, '_')}`;
      if (!/^[a-z_][a-z0-9_]*$/.test(def.name) || (def.name !== prefix && !def.name.startsWith(prefix + '_'))) {
        throw new PlinthError(500, 'PLINTH_ERR_METRIC_NAME', `metric "${def.name}" of ${gen.pluginId} must be ${prefix} or ${prefix}_… in snake case`);
      }
      const metric: ContributedMetric = { ...def, labelNames: def.labelNames ?? [], type, plugin: gen.pluginId };
      return gen.whenLive(() => {
        this.held.push(metric);
        return () => { this.held.splice(this.held.indexOf(metric), 1); };
      });
    };
    return { gauge: add('gauge'), counter: add('counter') };
  }
}
