import { kernelErrors, type SqlRunner } from 'plinth/sdk';

/**
 * Failed logins per client address in a sliding minute. Password hashing runs on the libuv
 * pool that SQLite shares, so a flood of guesses would stall every query: past the bound, a
 * client gets 429 until its oldest failure is a minute old. The failures are rows in the
 * database, so several kernels behind a balancer count them together.
 */
export class LoginThrottle {
  constructor(private readonly db: SqlRunner, private readonly now: () => number, private readonly maxFailures = 10, private readonly windowMs = 60_000) {}

  private get table() { return this.db.table('login_failures'); }

  async check(client: string): Promise<void> {
    const since = this.now() - this.windowMs;
    const rows = await this.db.query<{ n: number | string; oldest: number | string | null }>(
      `SELECT COUNT(*) AS n, MIN(at) AS oldest FROM ${this.table} WHERE client = ? AND at > ?`, [client, since]);
    if (Number(rows[0]?.n ?? 0) >= this.maxFailures) {
      const retryAfter = Math.ceil((Number(rows[0].oldest) + this.windowMs - this.now()) / 1000);
      throw kernelErrors.error('PLINTH_ERR_TOO_MANY_LOGINS', `too many failed logins from this address; try again in ${retryAfter} s`, { headers: { 'retry-after': String(Math.max(1, retryAfter)) } });
    }
  }

  async failed(client: string): Promise<void> {
    const now = this.now();
    await this.db.query(`INSERT INTO ${this.table} (client, at) VALUES (?, ?)`, [client.slice(0, 100), now]);
    await this.db.query(`DELETE FROM ${this.table} WHERE at <= ?`, [now - this.windowMs]);
  }

  async succeeded(client: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.table} WHERE client = ?`, [client]);
  }
}
