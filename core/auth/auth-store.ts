import { existsSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { cameOverTls, sessionCookie } from '../http/request-auth';
import { WsTickets } from '../http/websocket';
import { assertTokenScope, errors, newId, SCOPE_NAME, type AccountsService, type PluginDatabase, type Role, type TokenRecord, type User, type UserRecord } from '../../sdk';
import { hashPassword, hashToken, newToken, verifyPassword } from './secrets';

/** A verified token: whose it is, and its scopes (null: the user's full rights). */
export interface ResolvedToken { user: User; tokenId: string; scopes: string[] | null }
interface CachedToken extends ResolvedToken { expiresAt: number | null; cachedUntil: number }

/** What changed in auth state: every kernel drops what it cached about that token or user. */
export interface AuthChange { tokenId?: string; userId?: string }

const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;
const CACHE_MS = 30_000;

/** Users and their tokens. Verified tokens are cached briefly so auth costs no query per request. */
export class AuthStore implements AccountsService {
  private readonly cache = new Map<string, CachedToken>();
  /**
   * Told of every revocation and user change, so the other kernels on the database drop their
   * cached copy (the kernel publishes it on the bus, which crosses kernels); the 30 s cache would
   * otherwise keep a revoked token working there.
   */
  onChange: (change: AuthChange) => void = () => undefined;

  constructor(private readonly db: PluginDatabase, private readonly trustProxy: readonly string[] = [], private readonly tickets = new WsTickets()) {}

  sessionCookie(req: IncomingMessage, value: string, maxAgeSeconds: number): string {
    return sessionCookie(value, maxAgeSeconds, cameOverTls(req, this.trustProxy));
  }

  issueWsTicket(userId: string): { ticket: string; expiresAt: string } {
    return this.tickets.issue(userId);
  }

  private get users() { return this.db.table('users'); }
  private get tokens() { return this.db.table('tokens'); }

  private toUser(row: any): User {
    return { id: row.id, email: row.email, name: row.name ?? undefined, role: row.role };
  }

  async createUser(input: { email: string; password?: string; name?: string; role: Role }): Promise<User> {
    const email = input.email.trim().toLowerCase();
    const existing = await this.db.query(`SELECT id FROM ${this.users} WHERE email = ?`, [email]);
    if (existing.length) throw errors.conflict(`a user with email ${email} already exists`);
    const id = newId('usr');
    const hash = input.password ? await hashPassword(input.password) : null;
    await this.db.query(`INSERT INTO ${this.users} (id, email, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
      [id, email, input.name ?? null, input.role, hash, new Date().toISOString()]);
    return { id, email, name: input.name, role: input.role };
  }

  /** Users as an admin manages them (disabled flag, creation time). */
  async listUsers(): Promise<UserRecord[]> {
    return (await this.db.query(`SELECT * FROM ${this.users} ORDER BY created_at, id`)).map(r => this.toRecord(r));
  }

  private toRecord(row: any): UserRecord {
    return { ...this.toUser(row), disabled: !!Number(row.disabled), createdAt: row.created_at };
  }

  /**
   * Changes a user's role, name or disabled flag; refuses to leave the deployment without an
   * enabled admin. Takes effect on every kernel within a second (onChange).
   */
  async updateUser(id: string, patch: { role?: Role; disabled?: boolean; name?: string | null }): Promise<UserRecord> {
    const row = (await this.db.query(`SELECT * FROM ${this.users} WHERE id = ?`, [id]))[0];
    if (!row) throw errors.notFound(`user ${id}`);
    const losesAdmin = row.role === 'admin' && !Number(row.disabled) && ((patch.role && patch.role !== 'admin') || patch.disabled === true);
    if (losesAdmin) await this.assertAnotherAdmin(id);
    await this.db.query(`UPDATE ${this.users} SET role = ?, name = ?, disabled = ? WHERE id = ?`, [
      patch.role ?? row.role, patch.name === undefined ? row.name : patch.name, (patch.disabled ?? !!Number(row.disabled)) ? 1 : 0, id,
    ]);
    this.forget({ userId: id });
    this.onChange({ userId: id });
    return this.toRecord((await this.db.query(`SELECT * FROM ${this.users} WHERE id = ?`, [id]))[0]);
  }

  /** Removes a user and its tokens; what it owned in plugins stays (see DELETE /api/users/:id). */
  async deleteUser(id: string): Promise<void> {
    const row = (await this.db.query(`SELECT * FROM ${this.users} WHERE id = ?`, [id]))[0];
    if (!row) throw errors.notFound(`user ${id}`);
    if (row.role === 'admin' && !Number(row.disabled)) await this.assertAnotherAdmin(id);
    await this.db.transaction(async tx => {
      await tx.query(`DELETE FROM ${this.tokens} WHERE user_id = ?`, [id]);
      await tx.query(`DELETE FROM ${this.users} WHERE id = ?`, [id]);
    });
    this.forget({ userId: id });
    this.onChange({ userId: id });
  }

  private async assertAnotherAdmin(id: string): Promise<void> {
    const others = await this.db.query(`SELECT id FROM ${this.users} WHERE role = 'admin' AND disabled = 0 AND id <> ? LIMIT 1`, [id]);
    if (!others.length) throw errors.conflict('this is the last enabled admin; make another user admin first');
  }

  /** Drops cached tokens of that token or user (a change made here or on another kernel). */
  forget(change: AuthChange): void {
    for (const [key, entry] of this.cache) {
      if (entry.tokenId === change.tokenId || entry.user.id === change.userId) this.cache.delete(key);
    }
  }

  async getUser(id: string): Promise<User | undefined> {
    const rows = await this.db.query(`SELECT * FROM ${this.users} WHERE id = ?`, [id]);
    return rows[0] ? this.toUser(rows[0]) : undefined;
  }

  async login(email: string, password: string): Promise<{ user: User; token: string; expiresAt: string }> {
    const rows = await this.db.query(`SELECT * FROM ${this.users} WHERE email = ?`, [email.trim().toLowerCase()]);
    const row = rows[0];
    // Same work whether or not the user exists, so timing does not tell which emails are registered.
    const ok = row?.password_hash ? await verifyPassword(password, row.password_hash) : (await hashPassword(password), false);
    if (!ok) throw errors.unauthorized('wrong email or password');
    if (Number(row.disabled)) throw errors.forbidden('this account is disabled; ask an admin');
    const user = this.toUser(row);
    const { token } = await this.insertToken(user.id, 'session', 'login', SESSION_TTL_MS);
    return { user, token, expiresAt: new Date(Date.now() + SESSION_TTL_MS).toISOString() };
  }

  async signInExternal(identity: { email: string; name?: string }, options: { createRole?: Role; req: IncomingMessage }) {
    const email = identity.email.trim().toLowerCase();
    const rows = await this.db.query(`SELECT * FROM ${this.users} WHERE email = ?`, [email]);
    let user = rows[0] ? this.toUser(rows[0]) : undefined;
    let created = false;
    if (!user) {
      if (!options.createRole) throw errors.forbidden(`no account for ${email}`);
      try {
        user = await this.createUser({ email, name: identity.name, role: options.createRole });
        created = true;
      } catch (err) {
        // Two first sign-ins at once: the other one created the user.
        const again = await this.db.query(`SELECT * FROM ${this.users} WHERE email = ?`, [email]);
        if (!again[0]) throw err;
        user = this.toUser(again[0]);
      }
    }
    const { token } = await this.insertToken(user.id, 'session', 'oidc', SESSION_TTL_MS);
    const setCookie = this.sessionCookie(options.req, encodeURIComponent(token), SESSION_TTL_MS / 1000);
    return { user, created, token, expiresAt: new Date(Date.now() + SESSION_TTL_MS).toISOString(), setCookie };
  }

  async createToken(userId: string, options: { name?: string; expiresInMs?: number; scopes?: string[] } = {}): Promise<{ id: string; token: string }> {
    const { scopes } = options;
    if (scopes && (!scopes.length || scopes.some(s => typeof s !== 'string' || !SCOPE_NAME.test(s)))) {
      throw errors.badRequest(`scopes must be a non-empty list of names matching ${SCOPE_NAME} (leave it out for a token with the user's full rights)`, { scopes });
    }
    if (!(await this.getUser(userId))) throw errors.notFound(`user ${userId}`);
    return this.insertToken(userId, 'api', options.name ?? 'api', options.expiresInMs, newToken(), scopes ? [...new Set(scopes)] : null);
  }

  private async insertToken(userId: string, kind: 'api' | 'session', name: string, ttlMs?: number, token = newToken(), scopes: string[] | null = null) {
    const id = newId('tok');
    const expires = ttlMs ? new Date(Date.now() + ttlMs).toISOString() : null;
    await this.db.query(`INSERT INTO ${this.tokens} (id, user_id, name, kind, token_hash, created_at, expires_at, scopes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, userId, name, kind, hashToken(token), new Date().toISOString(), expires, scopes ? scopes.join(' ') : null]);
    return { id, token };
  }

  async listTokens(userId: string | undefined): Promise<TokenRecord[]> {
    const rows = userId
      ? await this.db.query(`SELECT * FROM ${this.tokens} WHERE user_id = ? ORDER BY created_at`, [userId])
      : await this.db.query(`SELECT * FROM ${this.tokens} ORDER BY created_at`);
    return rows.map(r => ({ id: r.id, userId: r.user_id, name: r.name, kind: r.kind, scopes: scopesOf(r.scopes), createdAt: r.created_at, expiresAt: r.expires_at }));
  }

  async tokenOwner(id: string): Promise<string | undefined> {
    return (await this.db.query(`SELECT user_id FROM ${this.tokens} WHERE id = ?`, [id]))[0]?.user_id;
  }

  async revokeToken(id: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.tokens} WHERE id = ?`, [id]);
    this.forget({ tokenId: id });
    this.onChange({ tokenId: id });
  }

  async verifyToken(token: string, options: { scope?: string } = {}): Promise<User | undefined> {
    const resolved = await this.resolveToken(token);
    if (resolved) assertTokenScope(resolved.scopes, options.scope, 'this endpoint');
    return resolved?.user;
  }

  /** A recently verified token, answered from memory (keyed by the token itself; the database holds hashes). */
  cachedToken(token: string): CachedToken | undefined {
    const hit = this.cache.get(token);
    if (!hit) return undefined;
    const now = Date.now();
    return hit.cachedUntil > now && (hit.expiresAt === null || hit.expiresAt > now) ? hit : undefined;
  }

  async resolveToken(token: string): Promise<ResolvedToken | undefined> {
    if (!token) return undefined;
    const hit = this.cachedToken(token);
    if (hit) return hit;
    const now = Date.now();
    const hash = hashToken(token);
    const rows = await this.db.query(
      `SELECT t.id AS token_id, t.expires_at, t.scopes AS token_scopes, u.* FROM ${this.tokens} t JOIN ${this.users} u ON u.id = t.user_id WHERE t.token_hash = ? AND u.disabled = 0`, [hash]);
    const row = rows[0];
    if (!row) { this.cache.delete(token); return undefined; }
    const expiresAt = row.expires_at ? Date.parse(row.expires_at) : null;
    if (expiresAt !== null && expiresAt <= now) return undefined;
    if (this.cache.size > 10_000) this.cache.clear();
    const entry = { user: this.toUser(row), tokenId: row.token_id, scopes: scopesOf(row.token_scopes), expiresAt, cachedUntil: now + CACHE_MS };
    this.cache.set(token, entry);
    return entry;
  }

  /**
   * The admin exists from the first start. With PLINTH_ADMIN_TOKEN set, that token is the
   * admin's; without it, one is generated once, stored hashed, and handed over through a
   * 0600 file in the data dir.
   */
  async bootstrapAdmin(dataDir: string, configuredToken: string | undefined): Promise<{ admin: User; generatedTokenFile?: string }> {
    const firstAdmin = async () => (await this.db.query(`SELECT * FROM ${this.users} WHERE role = 'admin' ORDER BY created_at LIMIT 1`)).map(r => this.toUser(r))[0];
    let admin = await firstAdmin();
    if (!admin) {
      try {
        admin = await this.createUser({ email: 'admin@localhost', name: 'Administrator', role: 'admin' });
      } catch (err) {
        // Another kernel on the same database made it first.
        admin = await firstAdmin();
        if (!admin) throw err;
      }
    }
    if (configuredToken) {
      const hash = hashToken(configuredToken);
      const rows = await this.db.query(`SELECT id FROM ${this.tokens} WHERE token_hash = ?`, [hash]);
      if (!rows.length) {
        await this.db.query(`DELETE FROM ${this.tokens} WHERE name = 'env-admin'`);
        await this.insertToken(admin.id, 'api', 'env-admin', undefined, configuredToken).catch(async err => {
          // Kernels starting together on one database with the same token: another one stored it first.
          if (!(await this.db.query(`SELECT id FROM ${this.tokens} WHERE token_hash = ?`, [hash])).length) throw err;
        });
      }
      return { admin };
    }
    // An unset PLINTH_ADMIN_TOKEN revokes the one it used to set.
    await this.db.query(`DELETE FROM ${this.tokens} WHERE name = 'env-admin'`);
    this.cache.clear();
    const generated = await this.db.query(`SELECT id FROM ${this.tokens} WHERE name = 'generated-admin'`);
    const file = join(dataDir, 'admin-token');
    if (!generated.length && !existsSync(file)) {
      const { token } = await this.insertToken(admin.id, 'api', 'generated-admin');
      writeFileSync(file, token + '\n', { mode: 0o600 });
      return { admin, generatedTokenFile: file };
    }
    return { admin };
  }
}

const scopesOf = (column: string | null | undefined): string[] | null => (column ? column.split(' ') : null);
