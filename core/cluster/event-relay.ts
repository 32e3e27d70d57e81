import type { Client } from 'pg';
import type { Logger, PlinthEvent, SqlRunner } from '../../sdk';

/**
 * How kernels on one PostgreSQL tell each other about new events. A signal is small (PostgreSQL
 * caps a NOTIFY payload at 8000 bytes): a persisted event travels as its id in the event log, a
 * transient one inline when it fits, else as the id of a row in `event_relay` (pruned after
 * RELAY_KEEP_MS). Receivers read the rows and dispatch in the order the signals arrived, which
 * PostgreSQL makes the commit order on every listener — the order per topic is the same on every
 * kernel. Backstage's PostgreSQL events backend works the same way (notify ids, read rows).
 */
export interface Signal {
  /** The publishing node: its own signals are not dispatched again (it dispatched them locally). */
  n: string;
  /** A persisted event's id in the event log. */
  e?: string;
  /** A transient event's row in `event_relay`. */
  r?: string;
  /** A transient event small enough to travel inline. */
  v?: PlinthEvent;
}

/** Where signals travel: PostgreSQL LISTEN/NOTIFY by default, Redis pub/sub where configured. */
export interface SignalTransport {
  readonly name: string;
  send(signal: string): Promise<void>;
  start(onSignal: (signal: string) => void): Promise<void>;
  close(): Promise<void>;
}

export const SIGNAL_CHANNEL = 'plinth_events';
const INLINE_MAX = 7000;
const RELAY_KEEP_MS = 5 * 60_000;
const SEEN_MAX = 10_000;

/** LISTEN on a dedicated connection (a pooled one would be handed back and stop listening). */
export class PgSignalTransport implements SignalTransport {
  readonly name = 'postgres';
  private client: Client | undefined;
  private closed = false;

  constructor(private readonly url: string, private readonly db: SqlRunner, private readonly log: Logger) {}

  async send(signal: string): Promise<void> {
    await this.db.query('SELECT pg_notify(?, ?)', [SIGNAL_CHANNEL, signal]);
  }

  async start(onSignal: (signal: string) => void): Promise<void> {
    // Loaded here, not at the top: a SQLite kernel never needs pg (~35 ms of its cold start).
    const { Client } = require('pg') as typeof import('pg');
    const client = new Client({ connectionString: this.url });
    client.on('notification', msg => { if (msg.channel === SIGNAL_CHANNEL && msg.payload) onSignal(msg.payload); });
    // A lost connection (database restart) is reopened; events signalled meanwhile are not seen
    // live, but SSE clients replay them from the log on reconnect.
    client.on('error', err => {
      this.log.warn('event listener connection lost', { err: err.message });
      void client.end().catch(() => undefined);
      if (!this.closed) setTimeout(() => { if (!this.closed) void this.start(onSignal).catch(e => this.log.error('event listener reconnect failed', { err: e })); }, 1000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${SIGNAL_CHANNEL}`);
    this.client = client;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => undefined);
  }
}

/**
 * Redis pub/sub (`PLINTH_REDIS_URL`): a subscriber connection and a publisher connection. One Redis
 * may serve several deployments: the channel names the database, whose ids the signals carry.
 */
export class RedisSignalTransport implements SignalTransport {
  readonly name = 'redis';
  private pub: any;
  private sub: any;
  private readonly channel: string;

  constructor(private readonly url: string, databaseUrl: string, private readonly log: Logger) {
    const db = new URL(databaseUrl);
    this.channel = `${SIGNAL_CHANNEL}:${db.hostname}:${db.port || 5432}${db.pathname}`;
  }

  async send(signal: string): Promise<void> {
    await this.pub.publish(this.channel, signal);
  }

  async start(onSignal: (signal: string) => void): Promise<void> {
    const { createClient } = require('redis') as typeof import('redis');
    this.pub = createClient({ url: this.url });
    this.sub = this.pub.duplicate();
    for (const c of [this.pub, this.sub]) c.on('error', (err: Error) => this.log.warn('redis connection error', { err: err.message }));
    await Promise.all([this.pub.connect(), this.sub.connect()]);
    await this.sub.subscribe(this.channel, (message: string) => onSignal(message));
  }

  async close(): Promise<void> {
    await Promise.all([this.pub, this.sub].map(c => c?.quit().catch(() => undefined)));
  }
}

/** Carries this kernel's events to the others and theirs to this kernel's bus. */
export class ClusterEventRelay {
  private queue: Signal[] = [];
  private draining = false;
  private sending: Promise<void> = Promise.resolve();
  private readonly seen = new Set<string>();

  constructor(private readonly opts: {
    nodeId: string;
    db: SqlRunner;
    transport: SignalTransport;
    log: Logger;
    deliver(event: PlinthEvent): void;
  }) {}

  start(): Promise<void> {
    return this.opts.transport.start(raw => {
      let signal: Signal;
      try { signal = JSON.parse(raw); } catch { return; }
      if (!signal || signal.n === this.opts.nodeId) return;
      this.queue.push(signal);
      if (!this.draining) void this.drain();
    });
  }

  close(): Promise<void> {
    return this.opts.transport.close();
  }

  /** A transient event's id, unique across kernels. */
  transientId(seq: number): string {
    return `m${seq}.${this.opts.nodeId.slice(-8)}`;
  }

  /**
   * Signals one of this kernel's events. Signals go out one after another, in publish order (two
   * pooled connections could otherwise commit their NOTIFYs the other way round); a failure is
   * logged, never the publisher's.
   */
  published(event: PlinthEvent, persisted: boolean): void {
    this.sending = this.sending.then(() => this.signal(event, persisted)).catch(err => this.opts.log.error('signalling an event failed', { topic: event.topic, err }));
  }

  private async signal(event: PlinthEvent, persisted: boolean): Promise<void> {
    const { n, db } = { n: this.opts.nodeId, db: this.opts.db };
    let signal: Signal;
    if (persisted) signal = { n, e: event.id };
    else {
      const inline = JSON.stringify({ n, v: event });
      if (inline.length <= INLINE_MAX) return this.opts.transport.send(inline);
      const rows = await db.query<{ id: number | string }>(
        `INSERT INTO ${db.table('event_relay')} (event, created_at) VALUES (?, ?) RETURNING id`, [JSON.stringify(event), Date.now()]);
      signal = { n, r: String(rows[0].id) };
    }
    await this.opts.transport.send(JSON.stringify(signal));
  }

  /** Drops relay rows no kernel will still read. */
  async prune(now: number): Promise<void> {
    await this.opts.db.query(`DELETE FROM ${this.opts.db.table('event_relay')} WHERE created_at < ?`, [now - RELAY_KEEP_MS]);
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, 200);
        const logged = await this.rows('events', batch.filter(s => s.e).map(s => s.e!), r => ({
          id: String(r.id), topic: r.topic, owner: r.owner, audience: r.audience, payload: JSON.parse(r.payload), time: r.time,
        }));
        const relayed = await this.rows('event_relay', batch.filter(s => s.r).map(s => s.r!), r => JSON.parse(r.event));
        for (const s of batch) {
          const event = s.v ?? (s.e ? logged.get(s.e) : s.r ? relayed.get(s.r) : undefined);
          if (!event || this.seen.has(event.id)) continue;
          // The same event signalled twice (a reconnect, two transports) reaches subscribers once.
          this.seen.add(event.id);
          if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.values().next().value!);
          this.opts.deliver(event);
        }
      }
    } catch (err) {
      this.opts.log.error('reading relayed events failed', { err });
    } finally {
      this.draining = false;
      if (this.queue.length) void this.drain();
    }
  }

  private async rows(table: string, ids: string[], map: (row: any) => PlinthEvent): Promise<Map<string, PlinthEvent>> {
    const out = new Map<string, PlinthEvent>();
    const numeric = ids.filter(id => /^\d{1,15}$/.test(id)).map(Number);
    if (!numeric.length) return out;
    const t = this.opts.db.table(table);
    const rows = await this.opts.db.query(`SELECT * FROM ${t} WHERE id IN (${numeric.map(() => '?').join(', ')})`, numeric);
    for (const r of rows) out.set(String(r.id), map(r));
    return out;
  }
}
