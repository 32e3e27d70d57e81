import type { DataSource } from 'typeorm';
import type { KernelStats } from '../sdk';
import type { KernelEventBus } from './events';
import type { PluginState } from './plugins/plugin-states';
import type { PluginMetrics } from './plugin-metrics';

/** The kernel's figures for metrics (`core.stats`), read when asked. */
export function kernelStats(bus: KernelEventBus, plugins: () => Iterable<PluginState>, dataSource: DataSource, contributed: PluginMetrics): KernelStats {
  return {
    events: () => bus.stats,
    plugins: () => [...plugins()].map(p => ({ id: p.id, status: p.status, generations: p.generations })),
    databasePool: () => {
      const pool = (dataSource.driver as any).master;
      return pool && typeof pool.totalCount === 'number' ? { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } : undefined;
    },
    pluginMetrics: () => contributed.list(),
  };
}
