import { createServiceRef } from './refs';
import type { Disposer, PlinthEvent } from './types';

/**
 * Several kernels on one PostgreSQL as one deployment (plugins/cluster): the kernel's event bus
 * and per-user connection caps ask this service, when a plugin implements it, to reach the other
 * kernels. Without one (SQLite, one kernel) events and counts stay in the process.
 */
export interface ClusterLink {
  /** How events travel between kernels (`postgres`, `redis`). */
  readonly transport: string;
  /** A transient event's id, unique across the kernels (one kernel alone uses `m<seq>`). */
  transientId(seq: number): string;
  /** One of this kernel's events, already handed to its own subscribers, for the other kernels. */
  published(event: PlinthEvent, persisted: boolean): void;
  /** The kernel hands over where the other kernels' events go, when it takes this link into use. */
  receive(deliver: ((event: PlinthEvent) => void) | undefined): void;
  /** Connections of a kind (`sse`, `ws`) the user holds on the other kernels, as last read. */
  connectionsElsewhere(kind: 'sse' | 'ws', userId: string): number;
  /** This kernel's count of the user's connections of a kind changed. */
  connectionsChanged(kind: 'sse' | 'ws', userId: string, n: number): void;
  /** The nodes whose heartbeat holds (this one among them), with the URL others reach each at (null until it listens). */
  liveNodes(): Promise<Array<{ id: string; url: string | null }>>;
}

/**
 * Told as each HTTP request ends (plugins/observability counts them). The kernel asks only the
 * implementing plugin, so a kernel without one pays nothing per request.
 */
export interface RequestObserver {
  /** `route` is the route's template (`/api/jobs/:id`), or `unmatched`. */
  requestEnded(method: string, route: string, status: number, seconds: number): void;
}

/** What the kernel knows about itself, for metrics: read when scraped, never pushed. */
export interface KernelStats {
  /** Events published here by the topic's first segment, received from other kernels, handed to subscribers. */
  events(): { publishedBySource: ReadonlyMap<string, number>; received: number; delivered: number };
  /** Every plugin's state, and how many generations it has had (1 + reloads). */
  plugins(): Array<{ id: string; status: string; generations: number }>;
  /** The kernel's PostgreSQL pool; undefined on SQLite. */
  databasePool(): { total: number; idle: number; waiting: number } | undefined;
  /** The metrics plugins contribute (`core.metrics`), one per name, each collected when scraped. */
  pluginMetrics(): ContributedMetric[];
}

/** One value of a plugin's metric. */
export interface MetricSample {
  labels?: Record<string, string>;
  value: number;
}

export interface MetricDefinition {
  /** `plinth_<plugin id>` or `plinth_<plugin id>_…` in snake case (`plinth_jobs`, `plinth_channels_deliveries`). */
  name: string;
  help: string;
  labelNames?: string[];
  /** The current values, asked only when scraped (a counter's are totals that only grow). */
  collect(): MetricSample[] | Promise<MetricSample[]>;
}

export interface ContributedMetric extends MetricDefinition {
  type: 'gauge' | 'counter';
  plugin: string;
}

/**
 * Where a plugin offers its figures (jobs by state, deliveries) to whatever serves metrics
 * (plugins/observability), with neither knowing the other: registered here, listed by `core.stats`,
 * collected only when scraped, so with no metrics plugin nothing is ever asked. A metric is listed
 * once its generation is live and goes with it. Plugin-scoped: `deps: { metrics: metricsRef }`.
 */
export interface MetricsRegistry {
  gauge(metric: MetricDefinition): Disposer;
  counter(metric: MetricDefinition): Disposer;
}

/** Kernel-owned services that a plugin implements (named under `contributes.services`), one plugin at a time. */
export const clusterLinkRef = createServiceRef<ClusterLink>({ id: 'core.clusterLink' });
export const requestObserverRef = createServiceRef<RequestObserver>({ id: 'core.requestObserver' });
/** Kernel services: its own figures, and where plugins offer theirs. */
export const kernelStatsRef = createServiceRef<KernelStats>({ id: 'core.stats' });
export const metricsRef = createServiceRef<MetricsRegistry>({ id: 'core.metrics' });
