/**
 * Rows written behind the path that produced them: queued, then written many to a statement a few
 * milliseconds later (or at once when a batch fills). Every statement on the plugin's SQLite
 * connection can stall the event loop while another runs, so on a busy webhook path fewer,
 * larger writes are what keeps acknowledgements fast. Readers that need the rows call `flush()`
 * first; dispose flushes, so rows are lost only if the process dies within the delay.
 */
export class WriteBehind<T> {
  private queue: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (rows: T[]) => Promise<void>,
    private readonly onError: (err: unknown) => void,
    private readonly batch = 100,
    private readonly delayMs = 10,
  ) {}

  add(row: T): void {
    this.queue.push(row);
    if (this.queue.length >= this.batch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
  }

  /** Resolves once everything queued so far (and every earlier batch) is written. */
  flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    const rows = this.queue;
    this.queue = [];
    if (!rows.length) return this.writes;
    this.writes = this.writes.then(async () => {
      for (let i = 0; i < rows.length; i += this.batch) await this.write(rows.slice(i, i + this.batch)).catch(this.onError);
    });
    return this.writes;
  }
}
