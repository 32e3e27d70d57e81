import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { StatementCache } from './statement-cache';
import type { Dialect, Migration, PluginDatabase, SqlRunner } from '../../sdk';

export interface DatabaseSettings {
  dialect: Dialect;
  /** SQLite file, or PostgreSQL URL. */
  location: string;
}

export function databaseSettings(dataDir: string, databaseUrl: string | undefined): DatabaseSettings {
  if (databaseUrl && /^postgres(ql)?:\/\//.test(databaseUrl)) return { dialect: 'postgres', location: databaseUrl };
  if (databaseUrl) throw new Error(`PLINTH_DATABASE_URL must be a postgres:// URL, got "${databaseUrl.split(':')[0]}:…"`);
  mkdirSync(dataDir, { recursive: true });
  return { dialect: 'sqlite', location: join(dataDir, 'plinth.db') };
}

/** `?` placeholders everywhere; PostgreSQL wants `$1…` (quoted strings are left alone). */
export function toDialectSql(dialect: Dialect, sql: string): string {
  if (dialect !== 'postgres') return sql;
  let n = 0;
  let out = '';
  let quote: string | null = null;
  for (const ch of sql) {
    if (quote) { if (ch === quote) quote = null; out += ch; continue; }
    if (ch === "'" || ch === '"') { quote = ch; out += ch; continue; }
    out += ch === '?' ? `$${++n}` : ch;
  }
  return out;
}

export function tablePrefix(namespace: string): string {
  return namespace.replace(/[^a-z0-9]/gi, '_').toLowerCase() + '_';
}

/**
 * One DataSource per namespace (the kernel, and each plugin generation), so that a generation's
 * connections close with it; several SQLite connections share one WAL file safely. TypeORM stays
 * in here: plugins see only the SDK's `PluginDatabase` (`?` queries, tables, transactions).
 */
export async function openDataSource(settings: DatabaseSettings, namespace: string): Promise<DataSource> {
  const common = { entityPrefix: tablePrefix(namespace), synchronize: false, logging: false } as const;
  const ds = settings.dialect === 'postgres'
    ? new DataSource({ type: 'postgres', url: settings.location, ...common, extra: { max: 4 } })
    // TypeORM would load sqlite3 with `.verbose()`, which captures a stack trace for every
    // statement on the main thread; the plain module gives the same results without that cost.
    : new DataSource({ type: 'sqlite', database: settings.location, ...common, enableWAL: true, busyTimeout: 10_000, driver: require('sqlite3') });
  await ds.initialize();
  if (settings.dialect === 'sqlite') {
    await ds.query('PRAGMA synchronous = NORMAL');
    await ds.query('PRAGMA foreign_keys = ON');
  }
  return ds;
}

function runner(dialect: Dialect, namespace: string, exec: (sql: string, params?: unknown[]) => Promise<any>): SqlRunner {
  const prefix = tablePrefix(namespace);
  return {
    dialect,
    table: name => prefix + name,
    query: async (sql, params = []) => {
      let text = toDialectSql(dialect, sql);
      // TypeORM's SQLite runner sends statements that start with INSERT/UPDATE/DELETE through
      // `run`, which drops RETURNING rows; a leading space sends them through `all` instead.
      if (dialect === 'sqlite' && /\bRETURNING\b/i.test(text)) text = ' ' + text.trimStart();
      const rows = await exec(text, params);
      // TypeORM answers [rows, affected] for PostgreSQL UPDATE/DELETE statements.
      if (dialect === 'postgres' && Array.isArray(rows) && rows.length === 2 && Array.isArray(rows[0]) && typeof rows[1] === 'number') return rows[0];
      return Array.isArray(rows) ? rows : [];
    },
  };
}

/** A namespace's handle; the DataSource is the kernel's own (migrations), never handed to a plugin. */
export interface KernelDatabase extends PluginDatabase {
  readonly dataSource: DataSource;
}

export function pluginDatabase(ds: DataSource, dialect: Dialect, namespace: string): KernelDatabase {
  const base = runner(dialect, namespace, dialect === 'sqlite' ? sqliteExec(ds) : (sql, params) => ds.query(sql, params as any[]));
  return {
    ...base,
    dataSource: ds,
    transaction: fn => ds.transaction(manager => fn(runner(dialect, namespace, (sql, params) => manager.query(sql, params as any[])))),
  };
}

/** What a plugin gets from `storage.open()`: the same handle without the kernel's DataSource. */
export function pluginView(db: KernelDatabase): PluginDatabase {
  return { dialect: db.dialect, table: db.table, query: db.query, transaction: db.transaction };
}

const caches = new WeakMap<DataSource, StatementCache>();

/** Queries outside a transaction reuse prepared statements; the cache closes with the DataSource. */
function sqliteExec(ds: DataSource): (sql: string, params?: unknown[]) => Promise<unknown[]> {
  let cache = caches.get(ds);
  if (!cache) {
    const made = (cache = new StatementCache(ds));
    caches.set(ds, made);
    const destroy = ds.destroy.bind(ds);
    ds.destroy = async () => { await made.clear(); return destroy(); };
  }
  const c = cache;
  return (sql, params = []) => c.all(sql, params);
}

const MIGRATIONS_TABLE = 'plinth_migrations';

/**
 * Applies each not-yet-applied migration in its own transaction; the record is the unique key.
 * On PostgreSQL several kernels may start at once on one database: an advisory lock makes them
 * take turns, and each reads what is applied only once it holds the lock.
 */
export async function runMigrations(db: KernelDatabase, namespace: string, migrations: Migration[]): Promise<string[]> {
  const qr = db.dataSource.createQueryRunner();
  await qr.connect();
  const sql = runner(db.dialect, namespace, (text, params) => qr.query(text, params as any[]));
  const locked = db.dialect === 'postgres';
  try {
    if (locked) await qr.query('SELECT pg_advisory_lock(hashtext($1))', [MIGRATIONS_TABLE]);
    await qr.query(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (namespace VARCHAR(100) NOT NULL, name VARCHAR(200) NOT NULL, applied_at VARCHAR(40) NOT NULL, PRIMARY KEY (namespace, name))`,
    );
    const done = new Set((await sql.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} WHERE namespace = ?`, [namespace])).map(r => r.name));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.name)) continue;
      await qr.startTransaction();
      try {
        await m.up(sql);
        await sql.query(`INSERT INTO ${MIGRATIONS_TABLE} (namespace, name, applied_at) VALUES (?, ?, ?)`, [namespace, m.name, new Date().toISOString()]);
        await qr.commitTransaction();
      } catch (err) {
        await qr.rollbackTransaction();
        throw new Error(`migration ${namespace}/${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(m.name);
    }
    return applied;
  } finally {
    if (locked) await qr.query('SELECT pg_advisory_unlock(hashtext($1))', [MIGRATIONS_TABLE]).catch(() => undefined);
    await qr.release();
  }
}
