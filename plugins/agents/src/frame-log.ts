import { errors, type Disposer, type SqlRunner } from 'plinth/sdk';

export type FrameEvent = 'message' | 'chunk' | 'done' | 'error';
export interface Frame { id: number; event: FrameEvent; data: Record<string, unknown> }

/** 5 parameters a frame: well under SQLite's and PostgreSQL's limits on bound parameters. */
const FRAMES_PER_INSERT = 100;

/**
 * The SSE frames of each session, numbered 1, 2, 3… per session and stored, so that a client that
 * reconnects with `Last-Event-ID: n` gets frames n+1… from the log and then the live ones.
 * Frames go to live listeners at once; their inserts queue per session (in order) behind them,
 * and a replay first waits for that queue, so a frame is never in neither place.
 */
export class FrameLog {
  private readonly t: string;
  private readonly next = new Map<string, number>();
  private readonly writes = new Map<string, Promise<void>>();
  /** Per session, the frames of the insert not yet started (it takes them all when it starts). */
  private readonly batches = new Map<string, unknown[][]>();
  private readonly listeners = new Map<string, Set<(f: Frame) => void>>();

  constructor(private readonly db: SqlRunner, private readonly now: () => number, private readonly onWriteError: (err: unknown) => void) {
    this.t = db.table('frames');
  }

  /**
   * Call before a turn appends frames: learns the last number used (after a restart, or after
   * another kernel on the same database answered in this session). `close` ends the turn's hold,
   * so the numbers of sessions that are not answering are not kept in memory.
   */
  async open(sessionId: string): Promise<void> {
    await this.flush(sessionId);
    if (this.next.has(sessionId)) return;
    const [{ n }] = await this.db.query(`SELECT COALESCE(MAX(seq), 0) AS n FROM ${this.t} WHERE session_id = ?`, [sessionId]);
    if (!this.next.has(sessionId)) this.next.set(sessionId, Number(n));
  }

  append(sessionId: string, event: FrameEvent, data: Record<string, unknown>): Frame {
    const id = (this.next.get(sessionId) ?? 0) + 1;
    this.next.set(sessionId, id);
    const frame: Frame = { id, event, data };
    for (const l of this.listeners.get(sessionId) ?? []) l(frame);
    const row = [sessionId, id, event, JSON.stringify(data), new Date(this.now()).toISOString()];
    // Frames queued behind a write in progress go in one insert: a reply streamed as thousands of
    // chunks must not cost thousands of round trips, which the next turn's `open` would wait out.
    const waiting = this.batches.get(sessionId);
    if (waiting) { waiting.push(row); return frame; }
    const batch = [row];
    this.batches.set(sessionId, batch);
    const prev = this.writes.get(sessionId) ?? Promise.resolve();
    const write = prev.then(async () => {
      if (this.batches.get(sessionId) === batch) this.batches.delete(sessionId);
      for (let i = 0; i < batch.length; i += FRAMES_PER_INSERT) {
        const rows = batch.slice(i, i + FRAMES_PER_INSERT);
        await this.db.query(`INSERT INTO ${this.t} (session_id, seq, event, data, created_at) VALUES ${rows.map(() => '(?, ?, ?, ?, ?)').join(', ')}`, rows.flat());
      }
    }).then(() => undefined, err => this.onWriteError(err));
    this.writes.set(sessionId, write);
    void write.then(() => { if (this.writes.get(sessionId) === write) this.writes.delete(sessionId); });
    return frame;
  }

  async flush(sessionId: string): Promise<void> {
    await this.writes.get(sessionId);
  }

  async flushAll(): Promise<void> {
    await Promise.all([...this.writes.values()]);
  }

  async after(sessionId: string, lastEventId: string | undefined): Promise<Frame[]> {
    let after = 0;
    if (lastEventId !== undefined) {
      if (!/^\d{1,12}$/.test(lastEventId)) throw errors.validation(`Last-Event-ID "${lastEventId}" is not a frame id of this session`);
      after = Number(lastEventId);
    }
    await this.flush(sessionId);
    const rows = await this.db.query(`SELECT seq, event, data FROM ${this.t} WHERE session_id = ? AND seq > ? ORDER BY seq`, [sessionId, after]);
    return rows.map(r => ({ id: Number(r.seq), event: r.event, data: JSON.parse(r.data) }));
  }

  subscribe(sessionId: string, listener: (f: Frame) => void): Disposer {
    let set = this.listeners.get(sessionId);
    if (!set) this.listeners.set(sessionId, set = new Set());
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (!set!.size) this.listeners.delete(sessionId);
    };
  }

  forget(sessionId: string): void {
    this.next.delete(sessionId);
  }

  close(sessionId: string): void {
    this.next.delete(sessionId);
  }
}
