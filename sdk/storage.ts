/**
 * Helpers over the storage API for what plugins kept writing by hand: ISO times from epoch-ms
 * columns, serial keys, keyset pages and leased claims. They use only `query` and `table`, so
 * they work the same on SQLite and PostgreSQL, in or out of a transaction.
 */
import type { PagePosition } from './http';
import type { Dialect, SqlRunner } from './types';

/** An epoch-ms column (a number, or a string as PostgreSQL answers BIGINT) as an ISO 8601 time; null stays null. */
export function iso(ms: number | Date): string;
export function iso(ms: unknown): string | null;
export function iso(ms: unknown): string | null {
  if (ms === null || ms === undefined) return null;
  return (ms instanceof Date ? ms : new Date(Number(ms))).toISOString();
}

/** Column definition of an auto-incrementing 64-bit primary key: `seq ${serialKey(db.dialect)}`. */
export function serialKey(dialect: Dialect): string {
  return dialect === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
}

export interface KeysetQuery {
  /** A full table name (`db.table('jobs')`). */
  table: string;
  /** Equality filters, as from a query string: an absent value (undefined, null, '') is left out (`{ owner: ownerFilter(user) }`). */
  equal?: Record<string, unknown>;
  /** More conditions with `?` placeholders, and their values in order. */
  where?: string[];
  params?: unknown[];
  /** Where the previous page ended (`decodeCursor(query.cursor)`). */
  cursor?: PagePosition;
  limit: number;
  /** The epoch-ms column of the page order (newest first), `created_ms` by default; ties go by `id`. */
  timeColumn?: string;
}

/**
 * One page, newest first, by keyset (no OFFSET: stable while rows are added): `limit + 1` rows,
 * for `pageOf(rows, limit, …)`, whose extra row only says that there is more.
 */
export function keysetPage<T = any>(db: SqlRunner, q: KeysetQuery): Promise<T[]> {
  const time = q.timeColumn ?? 'created_ms';
  const where = [...(q.where ?? [])];
  const params = [...(q.params ?? [])];
  for (const [column, value] of Object.entries(q.equal ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  if (q.cursor) {
    where.push(`(${time} < ? OR (${time} = ? AND id < ?))`);
    params.push(q.cursor.ms, q.cursor.ms, q.cursor.id);
  }
  const limit = Math.max(1, Math.floor(q.limit)) + 1;
  return db.query<T>(`SELECT * FROM ${q.table}${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY ${time} DESC, id DESC LIMIT ${limit}`, params);
}

export interface LeasedClaim {
  /** A full table name (`db.table('jobs')`). */
  table: string;
  /** What a claim writes (`state = 'running', lease_owner = ?, lease_until = ?`), and its values. */
  set: string;
  setParams: unknown[];
  /** Which rows may be claimed now (`state = 'ready' AND run_after <= ?`), and its values. */
  where: string;
  whereParams: unknown[];
  /** Which eligible rows go first. */
  orderBy: string;
  /** At most this many rows (1 by default). */
  limit?: number;
  /** The key column, `id` by default. */
  key?: string;
}

/**
 * Claims up to `limit` eligible rows for one worker, in one statement, and answers them as
 * updated. On PostgreSQL the rows are picked and locked once, `FOR UPDATE SKIP LOCKED` in a
 * MATERIALIZED CTE, then updated by key: with the pick inside `WHERE id IN (…)` instead, a row
 * another claimer changed meanwhile sent the UPDATE into PostgreSQL's re-check (EvalPlanQual),
 * which re-ran the locking subquery and held every other kernel's claim and finish behind it —
 * three kernels drained a backlog 4× slower than one. Rows locked by the pick need no second
 * eligibility check. On SQLite (one writer) `UPDATE … WHERE id IN (SELECT … LIMIT n) AND
 * <eligible>` is the guard. Release or renew by a guarded UPDATE of your own.
 */
export function claimLeased<T = any>(db: SqlRunner, c: LeasedClaim): Promise<T[]> {
  const key = c.key ?? 'id';
  const limit = Math.max(1, Math.floor(c.limit ?? 1));
  if (db.dialect === 'postgres') {
    return db.query<T>(
      `WITH picked AS MATERIALIZED (SELECT ${key} AS claim_key FROM ${c.table} WHERE ${c.where} ORDER BY ${c.orderBy} LIMIT ${limit} FOR UPDATE SKIP LOCKED)
       UPDATE ${c.table} SET ${c.set} FROM picked WHERE ${c.table}.${key} = picked.claim_key RETURNING ${c.table}.*`,
      [...c.whereParams, ...c.setParams]);
  }
  return db.query<T>(
    `UPDATE ${c.table} SET ${c.set} WHERE ${key} IN (SELECT ${key} FROM ${c.table} WHERE ${c.where} ORDER BY ${c.orderBy} LIMIT ${limit}) AND ${c.where} RETURNING *`,
    [...c.setParams, ...c.whereParams, ...c.whereParams]);
}
