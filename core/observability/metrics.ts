import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { KernelEventBus } from '../events';
import type { PluginState } from '../plugins/plugin-states';

/**
 * The kernel's Prometheus metrics (`GET /metrics`). Request metrics are observed as requests end;
 * the rest is read from the kernel's state when scraped, so the hot paths pay a counter increment
 * at most. Route labels are the route's template (`/api/jobs/:id`), never the raw path.
 */
export class KernelMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route'>;
  private readonly latencyChildren = new Map<string, ReturnType<Histogram<'method' | 'route'>['labels']>>();
  private readonly requestChildren = new Map<string, ReturnType<Counter<'method' | 'route' | 'status'>['labels']>>();

  constructor(env: {
    bus: KernelEventBus;
    plugins(): Iterable<PluginState>;
    dataSource: DataSource;
    nodeId: string;
  }) {
    const r = this.registry;
    r.setDefaultLabels({ node: env.nodeId });
    collectDefaultMetrics({ register: r, prefix: 'plinth_' });
    this.requests = new Counter({ name: 'plinth_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [r] });
    this.latency = new Histogram({
      name: 'plinth_http_request_duration_seconds', help: 'HTTP request latency (SSE and WebSocket: until the response starts)',
      labelNames: ['method', 'route'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [r],
    });
    const stats = env.bus.stats;
    new Gauge({
      name: 'plinth_events_total', help: 'Events: published here (by source plugin), received from other kernels, handed to subscribers',
      labelNames: ['kind', 'source'], registers: [r],
      collect() {
        this.reset();
        for (const [source, n] of stats.publishedBySource) this.set({ kind: 'published', source }, n);
        this.set({ kind: 'received', source: 'cluster' }, stats.received);
        this.set({ kind: 'delivered', source: 'all' }, stats.delivered);
      },
    });
    new Gauge({
      name: 'plinth_plugins', help: 'Plugins by state', labelNames: ['state'], registers: [r],
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const p of env.plugins()) counts.set(p.status, (counts.get(p.status) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'plinth_plugin_reloads', help: 'Generations set up per plugin beyond the first (reloads, successful or not)', labelNames: ['plugin'], registers: [r],
      collect() {
        this.reset();
        for (const p of env.plugins()) this.set({ plugin: p.id }, Math.max(0, p.generations - 1));
      },
    });
    new Gauge({
      name: 'plinth_db_pool_connections', help: 'The kernel\'s PostgreSQL pool: total, idle, waiting clients', labelNames: ['state'], registers: [r],
      collect() {
        const pool = (env.dataSource.driver as any).master;
        if (!pool || typeof pool.totalCount !== 'number') return;
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
  }

  /** Called as each request ends. */
  observe(method: string, route: string, status: number, seconds: number): void {
    // Label children are looked up once per combination: hashing label objects on every request
    // is most of what a counter costs.
    const key = `${method} ${route}`;
    let h = this.latencyChildren.get(key);
    if (!h) this.latencyChildren.set(key, (h = this.latency.labels(method, route)));
    h.observe(seconds);
    const ckey = `${key} ${status}`;
    let c = this.requestChildren.get(ckey);
    if (!c) this.requestChildren.set(ckey, (c = this.requests.labels(method, route, String(status))));
    c.inc();
  }

  /** Gauges of other modules (a plugin's jobs by state, deliveries) join the same registry. */
  gauge(name: string, help: string, labelNames: string[], collect: () => Promise<Array<{ labels: Record<string, string>; value: number }>>): void {
    new Gauge({
      name, help, labelNames, registers: [this.registry],
      async collect() {
        this.reset();
        for (const { labels, value } of await collect()) this.set(labels, value);
      },
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
