import type { TurnRecord, TurnStore } from './turn-store';

type FinishedTurn = Omit<TurnRecord, 'completed_at'> & { completed_at: string };

/** Rows per INSERT: 18 columns each keeps a batch under SQLite's 999-variable floor. */
const BATCH = 50;

/**
 * Write-behind for turns recorded around a streamed proxy call: each call becomes one finished
 * row, queued here and written with others in one INSERT shortly after, so that neither the first
 * token nor the stream waits on the database, and a busy proxy costs one write per batch instead of
 * two per call. `flush()` on dispose writes what is queued, so stopping the kernel loses nothing.
 */
export class TurnWriter {
  private queue: FinishedTurn[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly turns: TurnStore, private readonly onError: (err: unknown) => void, private readonly delayMs = 20) {}

  add(turn: FinishedTurn): void {
    this.queue.push(turn);
    if (this.queue.length >= BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
  }

  /** Writes everything queued so far; resolves when it is stored. */
  flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    const rows = this.queue;
    this.queue = [];
    // One batch at a time, so rows land in the order the calls finished.
    this.writing = this.writing.then(async () => {
      for (let i = 0; i < rows.length; i += BATCH) {
        await this.turns.insertFinished(rows.slice(i, i + BATCH)).catch(this.onError);
      }
    });
    return this.writing;
  }
}
