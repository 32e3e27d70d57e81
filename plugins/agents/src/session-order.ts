import type { SqlRunner, Timers } from 'plinth/sdk';

/** A turn's hold on its session; renewed while it runs, so a kernel that dies frees it after LEASE_MS. */
const LEASE_MS = 30_000;

/**
 * What must hold in a session when several kernels write to it at once, decided by the database
 * (one row per session, updated atomically) rather than by a variable in one process: the message
 * numbers (1, 2, 3… with no number twice), and one turn at a time, so that one turn's messages and
 * frames are never interleaved with another's. The row is made on first use; for a session older
 * than this table its counter starts at the session's highest message number.
 */
export class SessionOrder {
  private readonly t: string;
  private readonly m: string;

  constructor(private readonly db: SqlRunner, private readonly now: () => number, private readonly timers: Timers) {
    this.t = db.table('session_order');
    this.m = db.table('messages');
  }

  /** The next message number of the session. */
  async nextSeq(sessionId: string): Promise<number> {
    const bump = () => this.db.query(`UPDATE ${this.t} SET last_seq = last_seq + 1 WHERE session_id = ? RETURNING last_seq`, [sessionId]);
    let rows = await bump();
    if (!rows.length) {
      await this.ensure(sessionId);
      rows = await bump();
    }
    return Number(rows[0].last_seq);
  }

  /**
   * Takes the session for one turn; undefined while another turn (on any kernel) holds it. The
   * returned release frees it (call it once the turn's frames are written).
   */
  async claimTurn(sessionId: string, holder: string): Promise<(() => Promise<void>) | undefined> {
    const claim = () => this.db.query(`UPDATE ${this.t} SET turn_holder = ?, turn_until = ? WHERE session_id = ? AND turn_until < ? RETURNING session_id`,
      [holder, this.now() + LEASE_MS, sessionId, this.now()]);
    let rows = await claim();
    if (!rows.length) {
      await this.ensure(sessionId);
      rows = await claim();
    }
    if (!rows.length) return undefined;
    const stopRenewing = this.timers.setInterval(() => {
      void this.db.query(`UPDATE ${this.t} SET turn_until = ? WHERE session_id = ? AND turn_holder = ?`, [this.now() + LEASE_MS, sessionId, holder]).catch(() => undefined);
    }, LEASE_MS / 3);
    return async () => {
      stopRenewing();
      await this.db.query(`UPDATE ${this.t} SET turn_holder = NULL, turn_until = 0 WHERE session_id = ? AND turn_holder = ?`, [sessionId, holder]);
    };
  }

  /** Frees every hold: on SQLite (one kernel) at start, the holds left were the previous process's. */
  async releaseAll(): Promise<void> {
    await this.db.query(`UPDATE ${this.t} SET turn_holder = NULL, turn_until = 0 WHERE turn_until > 0`);
  }

  async remove(sessionId: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.t} WHERE session_id = ?`, [sessionId]);
  }

  private async ensure(sessionId: string): Promise<void> {
    await this.db.query(
      `INSERT INTO ${this.t} (session_id, last_seq, turn_until) VALUES (?, (SELECT COALESCE(MAX(seq), 0) FROM ${this.m} WHERE session_id = ?), 0)
       ON CONFLICT (session_id) DO NOTHING`, [sessionId, sessionId]);
  }
}
