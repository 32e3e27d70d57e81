import type { ClusterLink, Disposer, EventBus, Logger, PlinthEvent, PublishOptions, SqlRunner } from '../sdk';

type Handler = (event: PlinthEvent<any>) => void | Promise<void>;

export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === '*' || pattern === topic) return true;
  return pattern.endsWith('.*') && topic.startsWith(pattern.slice(0, -1));
}

/**
 * In-process pub/sub. Handlers run after the publisher's tick so a slow or failing subscriber
 * never delays or breaks the publisher. Events published with `persist` go to the kernel's
 * event log first, so their ids are ordered and SSE clients can replay after one.
 */
export class KernelEventBus implements EventBus {
  private readonly handlers = new Map<string, Set<Handler>>();
  private seq = 0;
  /** Carries events to and from the other kernels on one database, when a plugin links them (plugins/cluster). */
  cluster: ClusterLink | undefined;
  /** Read by /metrics: published here (by the topic's first segment), received from other kernels, handed to subscribers. */
  readonly stats = { publishedBySource: new Map<string, number>(), received: 0, delivered: 0 };

  constructor(private readonly db: SqlRunner, private readonly log: Logger) {}

  /** Takes a cluster link into use (or none): the previous one stops handing this bus events. */
  useCluster(link: ClusterLink | undefined): void {
    this.cluster?.receive(undefined);
    this.cluster = link;
    link?.receive(event => this.deliverRemote(event));
  }

  async publish<T>(topic: string, payload: T, options: PublishOptions = {}): Promise<PlinthEvent<T>> {
    const owner = options.owner ?? null;
    const audience = options.audience ?? (owner ? 'owner' : 'admin');
    const time = new Date().toISOString();
    let id: string;
    if (options.persist) {
      const rows = await this.db.query<{ id: number | string }>(
        `INSERT INTO ${this.db.table('events')} (topic, owner, audience, payload, time) VALUES (?, ?, ?, ?, ?) RETURNING id`,
        [topic, owner, audience, JSON.stringify(payload ?? null), time],
      );
      id = String(rows[0].id);
    } else {
      id = this.cluster ? this.cluster.transientId(++this.seq) : `m${++this.seq}`;
    }
    const event: PlinthEvent<T> = { id, topic, payload, owner, audience, time };
    const first = topic.slice(0, Math.max(0, topic.indexOf('.'))) || topic;
    const source = this.stats.publishedBySource.has(first) || this.stats.publishedBySource.size < 100 ? first : 'other';
    this.stats.publishedBySource.set(source, (this.stats.publishedBySource.get(source) ?? 0) + 1);
    this.dispatch(event);
    this.cluster?.published(event, !!options.persist);
    return event;
  }

  /** An event another kernel published, to this kernel's subscribers. */
  deliverRemote(event: PlinthEvent): void {
    this.stats.received++;
    this.dispatch(event);
  }

  private dispatch(event: PlinthEvent): void {
    for (const [pattern, set] of this.handlers) {
      if (!topicMatches(pattern, event.topic)) continue;
      for (const handler of set) {
        this.stats.delivered++;
        queueMicrotask(() => {
          try {
            const r = handler(event);
            if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch(err => this.log.error('event handler failed', { topic: event.topic, err }));
          } catch (err) {
            this.log.error('event handler failed', { topic: event.topic, err });
          }
        });
      }
    }
  }

  subscribe<T>(pattern: string, handler: (event: PlinthEvent<T>) => void | Promise<void>): Disposer {
    let set = this.handlers.get(pattern);
    if (!set) this.handlers.set(pattern, (set = new Set()));
    set.add(handler as Handler);
    return () => {
      set!.delete(handler as Handler);
      if (set!.size === 0) this.handlers.delete(pattern);
    };
  }

  async replay(pattern: string, afterId: string | undefined, limit = 1000): Promise<PlinthEvent[]> {
    const after = afterId && /^\d+$/.test(afterId) ? Number(afterId) : 0;
    const t = this.db.table('events');
    const rows = pattern === '*'
      ? await this.db.query(`SELECT * FROM ${t} WHERE id > ? ORDER BY id LIMIT ?`, [after, limit])
      : pattern.endsWith('.*')
        ? await this.db.query(`SELECT * FROM ${t} WHERE id > ? AND topic LIKE ? ORDER BY id LIMIT ?`, [after, pattern.slice(0, -1) + '%', limit])
        : await this.db.query(`SELECT * FROM ${t} WHERE id > ? AND topic = ? ORDER BY id LIMIT ?`, [after, pattern, limit]);
    return rows.map((r: any) => ({ id: String(r.id), topic: r.topic, owner: r.owner, audience: r.audience, payload: JSON.parse(r.payload), time: r.time }));
  }

  listenerCount(): number {
    let n = 0;
    for (const set of this.handlers.values()) n += set.size;
    return n;
  }
}

export function canSee(event: PlinthEvent, user: { id: string; role: string }): boolean {
  if (event.audience === 'internal') return false;
  if (user.role === 'admin') return true;
  if (event.audience === 'all') return true;
  return event.audience === 'owner' && event.owner === user.id;
}
