import type { Clock, Logger } from 'plinth/sdk';
import type { RunEvent, RunStore } from './run-store';

export const OUTPUT = 'terminal.output';
const MAX_OUTPUT_CHUNK = 64 * 1024;
const COALESCE_MS = 15;
const HIGH_WATER = 8 * 1024 * 1024;
const LOW_WATER = 2 * 1024 * 1024;

interface Pending { type: string; data: any; time: string; size: number; open: boolean; waiters: Array<(e: RunEvent) => void> }

/**
 * One run's numbered log. Events are numbered and written by a single writer in order, and are
 * handed to live listeners only once stored: a viewer that subscribes and then reads the store
 * (SSE replay-then-live) therefore never misses one. Terminal output is coalesced into chunks
 * while a write is in flight, and the PTY is paused when the store falls behind (no loss, bounded memory).
 */
class RunLog {
  last = -1;
  pending: Pending[] = [];
  pendingBytes = 0;
  writing = false;
  timer: NodeJS.Timeout | undefined;
  paused = false;
  readonly listeners = new Set<(e: RunEvent) => void>();
  onPressure: ((paused: boolean) => void) | undefined;
  idle: Array<() => void> = [];
}

export class RunEventLog {
  private readonly logs = new Map<string, RunLog>();

  constructor(private readonly store: RunStore, private readonly clock: Clock, private readonly log: Logger) {}

  private get(runId: string): RunLog {
    let l = this.logs.get(runId);
    if (!l) { l = new RunLog(); this.logs.set(runId, l); }
    return l;
  }

  append(runId: string, type: string, data: unknown): Promise<RunEvent> {
    const l = this.get(runId);
    for (const p of l.pending) p.open = false;
    return new Promise(resolve => {
      l.pending.push({ type, data, time: new Date(this.clock.now()).toISOString(), size: 0, open: false, waiters: [resolve] });
      this.schedule(runId, l, 0);
    });
  }

  output(runId: string, text: string): void {
    const l = this.get(runId);
    const tail = l.pending[l.pending.length - 1];
    if (tail?.open && tail.size + text.length <= MAX_OUTPUT_CHUNK) {
      tail.data.data += text;
      tail.size += text.length;
    } else {
      l.pending.push({ type: OUTPUT, data: { data: text }, time: new Date(this.clock.now()).toISOString(), size: text.length, open: true, waiters: [] });
    }
    l.pendingBytes += text.length;
    if (!l.paused && l.pendingBytes > HIGH_WATER) { l.paused = true; l.onPressure?.(true); }
    this.schedule(runId, l, COALESCE_MS);
  }

  /** Told when output piles up beyond what the store has written, and when it has caught up. */
  onPressure(runId: string, fn: ((paused: boolean) => void) | undefined): void { this.get(runId).onPressure = fn; }

  subscribe(runId: string, fn: (e: RunEvent) => void): () => void {
    const l = this.get(runId);
    l.listeners.add(fn);
    return () => { l.listeners.delete(fn); };
  }

  /** Resolves once everything appended so far is stored. */
  flushed(runId: string): Promise<void> {
    const l = this.logs.get(runId);
    if (!l || (!l.pending.length && !l.writing)) return Promise.resolve();
    return new Promise(r => { l.idle.push(r); this.schedule(runId, l, 0); });
  }

  forget(runId: string): void {
    const l = this.logs.get(runId);
    if (l && !l.pending.length && !l.writing) { clearTimeout(l.timer); this.logs.delete(runId); }
  }

  private schedule(runId: string, l: RunLog, delay: number): void {
    if (l.writing) return;
    if (delay === 0) { clearTimeout(l.timer); l.timer = undefined; void this.drain(runId, l); return; }
    // Node's timer, not ctx.timers: a stopping run waits for its log to drain, which must happen during dispose too.
    if (!l.timer) l.timer = setTimeout(() => { l.timer = undefined; void this.drain(runId, l); }, delay);
  }

  private async drain(runId: string, l: RunLog): Promise<void> {
    if (l.writing) return;
    l.writing = true;
    let failed = false;
    try {
      if (l.last < 0) l.last = await this.store.lastSeq(runId);
      while (l.pending.length) {
        const batch = l.pending.splice(0, 100);
        for (const p of batch) p.open = false;
        const events: RunEvent[] = batch.map(p => ({ seq: ++l.last, type: p.type, data: p.data, time: p.time }));
        await this.insert(runId, l, events);
        for (let i = 0; i < batch.length; i++) {
          l.pendingBytes -= batch[i].size;
          for (const fn of l.listeners) {
            try { fn(events[i]); } catch (err: any) { this.log.warn('run event listener failed', { runId, error: err.message }); }
          }
          for (const w of batch[i].waiters) w(events[i]);
        }
        if (l.paused && l.pendingBytes < LOW_WATER) { l.paused = false; l.onPressure?.(false); }
      }
    } catch (err: any) {
      // The database is unreachable: keep the events and try again later, not in a tight loop.
      failed = true;
      this.log.warn('run events not stored yet; retrying', { runId, error: err.message });
    } finally {
      l.writing = false;
      for (const r of l.idle.splice(0)) r();
      if (l.pending.length) this.schedule(runId, l, failed ? 500 : 0);
    }
  }

  /** Another kernel on the same database may have numbered an event (a hook it received): renumber and retry. */
  private async insert(runId: string, l: RunLog, events: RunEvent[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try { return await this.store.insertEvents(runId, events); } catch (err: any) {
        if (attempt >= 3) { this.log.error('run events lost', { runId, count: events.length, error: err.message }); return; }
        l.last = await this.store.lastSeq(runId);
        for (const e of events) e.seq = ++l.last;
      }
    }
  }
}
