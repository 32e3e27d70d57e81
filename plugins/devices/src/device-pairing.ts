import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { assertOwner, DEVICE_SCOPE, errors, newId, ownerFilter, type AuthService, type SqlRunner, type User } from 'plinth/sdk';
import { errorCodes } from './errors';

export interface DeviceConfig { codeTtlMs: number; maxAttempts: number; tokenTtlMs?: number }

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

const view = (r: any) => ({
  id: r.id, owner: r.owner, name: r.name, state: r.state as 'pending' | 'paired' | 'revoked' | 'locked',
  codeExpiresAt: r.code_expires_at, attempts: Number(r.attempts), tokenId: r.token_id ?? null,
  createdAt: r.created_at, pairedAt: r.paired_at ?? null, revokedAt: r.revoked_at ?? null,
});

/**
 * Pairing a device: the user starts it and sees a 6-digit code; the device sends the code back
 * and receives a kernel API token of its own (named `device:<id>`, scoped to DEVICE_SCOPE: it is
 * let in only where a route declares that scope), which revoking the device deletes. The code is stored hashed, valid for `codeTtlMs`, and `maxAttempts` wrong tries lock it.
 */
export class DevicePairing {
  private readonly t: string;
  constructor(private readonly db: SqlRunner, private readonly auth: AuthService, private readonly config: DeviceConfig, private readonly now: () => number) {
    this.t = db.table('devices');
  }

  private iso(ms = 0) { return new Date(this.now() + ms).toISOString(); }

  async pair(user: User, name: string) {
    const id = newId('dev');
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expiresAt = this.iso(this.config.codeTtlMs);
    await this.db.query(`INSERT INTO ${this.t} (id, owner, name, state, code_hash, code_expires_at, attempts, token_id, created_at, paired_at, revoked_at)
      VALUES (?, ?, ?, 'pending', ?, ?, 0, NULL, ?, NULL, NULL)`, [id, user.id, name, sha256(code), expiresAt, this.iso()]);
    return { id, name, code, expiresAt, verifyPath: `/api/runtime/devices/${id}/verify` };
  }

  private async row(id: string) {
    const [row] = await this.db.query(`SELECT * FROM ${this.t} WHERE id = ?`, [id]);
    if (!row) throw errors.notFound(`device ${id}`);
    return row;
  }

  /** Called by the device itself, without a token: the code is its proof. */
  async verify(id: string, code: string) {
    const row = await this.row(id);
    if (row.state === 'locked') throw errorCodes.error('PLINTH_ERR_DEVICE_LOCKED', `device ${id}: too many wrong codes, start a new pairing`);
    if (row.state !== 'pending') throw errorCodes.error('PLINTH_ERR_DEVICE_STATE', `device ${id} is ${row.state}, not waiting for its code`);
    if (Date.parse(row.code_expires_at) <= this.now()) throw errorCodes.error('PLINTH_ERR_DEVICE_EXPIRED', `the code of device ${id} expired at ${row.code_expires_at}`);
    if (!timingSafeEqual(Buffer.from(sha256(code)), Buffer.from(row.code_hash))) {
      // Counted in the database, so tries spread over several kernels still add up.
      const [after] = await this.db.query(`UPDATE ${this.t} SET attempts = attempts + 1,
        state = CASE WHEN attempts + 1 >= ? THEN 'locked' ELSE state END WHERE id = ? AND state = 'pending' RETURNING attempts, state`, [this.config.maxAttempts, id]);
      const left = after ? Math.max(0, this.config.maxAttempts - Number(after.attempts)) : 0;
      throw errorCodes.error('PLINTH_ERR_DEVICE_CODE', `wrong code for device ${id}; ${left} ${left === 1 ? 'try' : 'tries'} left`, { details: { attemptsLeft: left } });
    }
    // One of two concurrent right answers wins the pending row; the other is told it is paired.
    const won = await this.db.query(`UPDATE ${this.t} SET state = 'paired', paired_at = ? WHERE id = ? AND state = 'pending' RETURNING id`, [this.iso(), id]);
    if (!won.length) throw errorCodes.error('PLINTH_ERR_DEVICE_STATE', `device ${id} was paired meanwhile`);
    const token = await this.auth.createToken(row.owner, { name: `device:${id}`, scopes: [DEVICE_SCOPE], ...(this.config.tokenTtlMs ? { expiresInMs: this.config.tokenTtlMs } : {}) });
    await this.db.query(`UPDATE ${this.t} SET token_id = ? WHERE id = ?`, [token.id, id]);
    return { id, name: row.name, token: token.token, tokenId: token.id };
  }

  async list(user: User) {
    const owner = ownerFilter(user);
    const rows = owner
      ? await this.db.query(`SELECT * FROM ${this.t} WHERE owner = ? ORDER BY created_at DESC, id DESC`, [owner])
      : await this.db.query(`SELECT * FROM ${this.t} ORDER BY created_at DESC, id DESC`);
    return { items: rows.map(view), nextCursor: null };
  }

  async get(id: string, user: User) {
    const row = await this.row(id);
    assertOwner(user, row.owner, `device ${id}`);
    return view(row);
  }

  /** Deletes the device's token at once; a pending pairing can no longer be completed. */
  async revoke(id: string, user: User) {
    const row = await this.row(id);
    assertOwner(user, row.owner, `device ${id}`);
    if (row.state === 'revoked') return view(row);
    await this.db.query(`UPDATE ${this.t} SET state = 'revoked', revoked_at = ? WHERE id = ?`, [this.iso(), id]);
    if (row.token_id) await this.auth.revokeToken(row.token_id);
    return view(await this.row(id));
  }
}
