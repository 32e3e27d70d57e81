import type { EventBus, Logger, PlinthEvent, SqlRunner } from 'plinth/sdk';
import type { SignalTransport } from './signal-transports';

/**
 * A signal between kernels is small (PostgreSQL caps a NOTIFY payload at 8000 bytes): an event
 * travels inline when it fits; else a persisted one as its id in the kernel's event log, a
 * transient one as the id of a row in `event_relay` (pruned after RELAY_KEEP_MS). Receivers
 * dispatch in the order the signals arrived, which PostgreSQL makes the commit order on every
 * listener — the order per topic is the same on every kernel. Backstage's PostgreSQL events
 * backend works the same way (notify ids, read rows).
 */
export interface Signal {
  /** The publishing node: its own signals are not dispatched again (it dispatched them locally). */
  n: string;
  /** An event small enough to travel inline. */
  v?: PlinthEvent;
  /** A persisted event's id in the event log. */
  e?: string;
  /** A transient event's row in `event_relay`. */
  r?: string;
}

const INLINE_MAX = 7000;
const RELAY_KEEP_MS = 5 * 60_000;
const SEEN_MAX = 10_000;

/** Carries this kernel's events to the others and theirs to this kernel's bus. */
export class ClusterEventRelay {
  /** Where the others' events go: the kernel's bus once it took this relay into use. */
  deliver: ((event: PlinthEvent) => void) | undefined;
  private queue: Signal[] = [];
  private draining = false;
  private sending: Promise<void> = Promise.resolve();
  private readonly seen = new Set<string>();

  constructor(private readonly opts: { nodeId: string; db: SqlRunner; events: EventBus; transport: SignalTransport; log: Logger; now(): number }) {}

  get transport(): string { return this.opts.transport.name; }

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
    const { nodeId: n, db } = this.opts;
    const inline = JSON.stringify({ n, v: event });
    if (inline.length <= INLINE_MAX) return this.opts.transport.send(inline);
    let signal: Signal;
    if (persisted) signal = { n, e: event.id };
    else {
      const rows = await db.query<{ id: number | string }>(
        `INSERT INTO ${db.table('event_relay')} (event, created_at) VALUES (?, ?) RETURNING id`, [JSON.stringify(event), this.opts.now()]);
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
        const relayed = await this.relayRows(batch.filter(s => s.r).map(s => s.r!));
        for (const s of batch) {
          const event = s.v ?? (s.e ? await this.logged(s.e) : s.r ? relayed.get(s.r) : undefined);
          if (!event || this.seen.has(event.id)) continue;
          // The same event signalled twice (a reconnect, two transports) reaches subscribers once.
          this.seen.add(event.id);
          if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.values().next().value!);
          this.deliver?.(event);
        }
      }
    } catch (err) {
      this.opts.log.error('reading relayed events failed', { err });
    } finally {
      this.draining = false;
      if (this.queue.length) void this.drain();
    }
  }

  /** A persisted event by id: the first one of the log after the one before it. */
  private async logged(id: string): Promise<PlinthEvent | undefined> {
    if (!/^\d{1,15}$/.test(id)) return undefined;
    const [event] = await this.opts.events.replay('*', String(Number(id) - 1), 1);
    return event?.id === id ? event : undefined;
  }

  private async relayRows(ids: string[]): Promise<Map<string, PlinthEvent>> {
    const out = new Map<string, PlinthEvent>();
    const numeric = ids.filter(id => /^\d{1,15}$/.test(id)).map(Number);
    if (!numeric.length) return out;
    const t = this.opts.db.table('event_relay');
    const rows = await this.opts.db.query(`SELECT * FROM ${t} WHERE id IN (${numeric.map(() => '?').join(', ')})`, numeric);
    for (const r of rows) out.set(String(r.id), JSON.parse(r.event));
    return out;
  }
}
