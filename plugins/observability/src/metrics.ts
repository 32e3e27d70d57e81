import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { KernelStats, Logger, RequestObserver } from 'plinth/sdk';
import { contributedText } from './contributed';

/**
 * The kernel's Prometheus metrics (`GET /metrics`). Request metrics are observed as requests end
 * (the kernel's `core.requestObserver`); the rest is read from the kernel's figures (`core.stats`)
 * when scraped, so the hot paths pay a counter increment at most. Route labels are the route's
 * template (`/api/jobs/:id`), never the raw path.
 */
export class KernelMetrics implements RequestObserver {
  readonly registry = new Registry();
  private readonly requests = new RequestMetrics();

  constructor(private readonly stats: KernelStats, private readonly nodeId: string, private readonly log: Logger) {
    const r = this.registry;
    r.setDefaultLabels({ node: nodeId });
    collectDefaultMetrics({ register: r, prefix: 'plinth_' });
    r.registerMetric(this.requests.counter as any);
    r.registerMetric(this.requests.histogram as any);
    new Gauge({
      name: 'plinth_events_total', help: 'Events: published here (by source plugin), received from other kernels, handed to subscribers',
      labelNames: ['kind', 'source'], registers: [r],
      collect() {
        this.reset();
        const events = stats.events();
        for (const [source, n] of events.publishedBySource) this.set({ kind: 'published', source }, n);
        this.set({ kind: 'received', source: 'cluster' }, events.received);
        this.set({ kind: 'delivered', source: 'all' }, events.delivered);
      },
    });
    new Gauge({
      name: 'plinth_plugins', help: 'Plugins by state', labelNames: ['state'], registers: [r],
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const p of stats.plugins()) counts.set(p.status, (counts.get(p.status) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'plinth_plugin_reloads', help: 'Generations set up per plugin beyond the first (reloads, successful or not)', labelNames: ['plugin'], registers: [r],
      collect() {
        this.reset();
        for (const p of stats.plugins()) this.set({ plugin: p.id }, Math.max(0, p.generations - 1));
      },
    });
    new Gauge({
      name: 'plinth_db_pool_connections', help: 'The kernel\'s PostgreSQL pool: total, idle, waiting clients', labelNames: ['state'], registers: [r],
      collect() {
        const pool = stats.databasePool();
        if (!pool) return;
        this.set({ state: 'total' }, pool.total);
        this.set({ state: 'idle' }, pool.idle);
        this.set({ state: 'waiting' }, pool.waiting);
      },
    });
  }

  /** Called by the kernel as each request ends. */
  requestEnded(method: string, route: string, status: number, seconds: number): void {
    this.requests.observe(method, route, status, seconds);
  }

  /** The kernel's metrics, then what plugins contribute. */
  async text(): Promise<string> {
    const own = await this.registry.metrics();
    const contributed = await contributedText(this.stats.pluginMetrics(), name => !!this.registry.getSingleMetric(name), this.nodeId, this.log);
    return contributed ? `${own}\n${contributed}` : own;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Requests by route and status, and their latency histogram, kept as plain numbers per label
 * combination and handed to prom-client only when scraped: prom-client's own counter and histogram
 * hash their label object on every observation (~1 µs a request, a measurable share of the kernel's
 * per-request cost; see bench/kernel-overhead.ts).
 */
class RequestMetrics {
  private readonly counts: Array<{ labels: Record<string, string>; n: number }> = [];
  private readonly timings: Array<{ labels: Record<string, string>; buckets: number[]; sum: number; n: number }> = [];
  /** Route → method → its timings and counts by status; looked up by parts, so no key string is built per request. */
  private readonly byRoute = new Map<string, Map<string, { timing: RequestMetrics['timings'][number]; byStatus: Map<number, { n: number }> }>>();

  observe(method: string, route: string, status: number, seconds: number): void {
    let methods = this.byRoute.get(route);
    if (!methods) this.byRoute.set(route, (methods = new Map()));
    let entry = methods.get(method);
    if (!entry) {
      const timing = { labels: { method, route }, buckets: BUCKETS.map(() => 0), sum: 0, n: 0 };
      this.timings.push(timing);
      methods.set(method, (entry = { timing, byStatus: new Map() }));
    }
    const t = entry.timing;
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
    if (i < BUCKETS.length) t.buckets[i]++;
    t.sum += seconds;
    t.n++;
    let c = entry.byStatus.get(status);
    if (!c) {
      const count = { labels: { method, route, status: String(status) }, n: 0 };
      this.counts.push(count);
      entry.byStatus.set(status, (c = count));
    }
    c.n++;
  }

  readonly counter = {
    name: 'plinth_http_requests_total', help: 'HTTP requests by route template and status', type: 'counter', aggregator: 'sum',
    get: () => ({ ...this.counter, values: this.counts.map(c => ({ labels: c.labels, value: c.n })) }),
  };

  readonly histogram = {
    name: 'plinth_http_request_duration_seconds', help: 'HTTP request latency by route template (SSE: until the stream ends)', type: 'histogram', aggregator: 'sum',
    get: () => ({
      ...this.histogram,
      values: this.timings.flatMap(t => {
        let cumulative = 0;
        const name = 'plinth_http_request_duration_seconds';
        return [
          ...BUCKETS.map((le, i) => ({ labels: { ...t.labels, le }, value: (cumulative += t.buckets[i]), metricName: `${name}_bucket` })),
          { labels: { ...t.labels, le: '+Inf' }, value: t.n, metricName: `${name}_bucket` },
          { labels: t.labels, value: t.sum, metricName: `${name}_sum` },
          { labels: t.labels, value: t.n, metricName: `${name}_count` },
        ];
      }),
    }),
  };
}
