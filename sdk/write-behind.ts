import type { Disposer, Timers } from './types';

export interface WriteBehindOptions {
  /** Rows per `write` call (mind SQLite's 999-variable floor: columns × batch ≤ 999). 100 by default. */
  batch?: number;
  /** How long a row may wait for others before its batch is written. 10 ms by default. */
  delayMs?: number;
  /** The plugin's `ctx.timers`, so the delay runs under the kernel's fault policy; Node's timers when absent. */
  timers?: Pick<Timers, 'setTimeout'>;
}

/**
 * Rows written behind the path that produced them: queued, then written many to a statement a
 * few milliseconds later (or at once when a batch fills), one batch at a time so that rows land in
 * the order they were added. Every statement on a plugin's SQLite connection can stall the event
 * loop while another runs, so on a busy path (a webhook, a streamed proxy call) fewer, larger
 * writes keep answers fast. Readers that need the rows call `flush()` first; hand `flush` to
 * `onDispose`, so rows are lost only if the process dies within the delay. A failed write goes to
 * `onError` and does not stop later batches.
 */
export class WriteBehind<T> {
  private queue: T[] = [];
  private cancel: Disposer | undefined;
  private writes: Promise<void> = Promise.resolve();
  private readonly batch: number;
  private readonly delayMs: number;
  private readonly timers: Pick<Timers, 'setTimeout'>;

  constructor(
    private readonly write: (rows: T[]) => Promise<void>,
    private readonly onError: (err: unknown) => void,
    options: WriteBehindOptions = {},
  ) {
    this.batch = options.batch ?? 100;
    this.delayMs = options.delayMs ?? 10;
    this.timers = options.timers ?? nodeTimers;
  }

  add(row: T): void {
    this.queue.push(row);
    if (this.queue.length >= this.batch) void this.flush();
    else this.cancel ??= this.timers.setTimeout(() => { this.cancel = undefined; void this.flush(); }, this.delayMs);
  }

  /** Resolves once everything queued so far (and every earlier batch) is written. */
  flush(): Promise<void> {
    if (this.cancel) { void this.cancel(); this.cancel = undefined; }
    const rows = this.queue;
    this.queue = [];
    if (!rows.length) return this.writes;
    this.writes = this.writes.then(async () => {
      for (let i = 0; i < rows.length; i += this.batch) await this.write(rows.slice(i, i + this.batch)).catch(this.onError);
    });
    return this.writes;
  }
}

const nodeTimers: Pick<Timers, 'setTimeout'> = {
  setTimeout(fn, ms) { const t = setTimeout(fn, ms); return () => clearTimeout(t); },
};
