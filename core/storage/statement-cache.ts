import type { DataSource } from 'typeorm';

interface Statement {
  all(params: unknown[], cb: (err: Error | null, rows: unknown[]) => void): void;
  finalize(cb?: () => void): void;
}

const CAPACITY = 256;

/**
 * Prepared statements on a SQLite DataSource's one connection, reused by SQL text. Preparing and
 * finalising a statement costs more than running it (~70 µs against ~30 µs a query here), and a
 * plugin issues the same few statements over and over. SQLite re-prepares a cached statement by
 * itself after a schema change. Least recently used statements are finalised past the capacity.
 */
export class StatementCache {
  private readonly statements = new Map<string, Promise<Statement>>();

  constructor(private readonly ds: DataSource) {}

  async all(sql: string, params: unknown[]): Promise<unknown[]> {
    let prepared = this.statements.get(sql);
    if (prepared) {
      this.statements.delete(sql);
      this.statements.set(sql, prepared);
    } else {
      prepared = this.prepare(sql);
      this.statements.set(sql, prepared);
      if (this.statements.size > CAPACITY) {
        const [oldest, old] = this.statements.entries().next().value as [string, Promise<Statement>];
        this.statements.delete(oldest);
        void old.then(st => st.finalize(), () => undefined);
      }
    }
    let statement: Statement;
    try {
      statement = await prepared;
    } catch (err) {
      // A statement that did not prepare (bad SQL, a missing table) is not kept: the next call tries afresh.
      if (this.statements.get(sql) === prepared) this.statements.delete(sql);
      throw err;
    }
    return new Promise((resolve, reject) => statement.all(params, (err, rows) => (err ? reject(err) : resolve(rows ?? []))));
  }

  private prepare(sql: string): Promise<Statement> {
    const db = (this.ds.driver as any).databaseConnection;
    return new Promise((resolve, reject) => {
      // With a callback, a prepare error goes to it rather than to an 'error' event nobody hears.
      const st: Statement = db.prepare(sql, (err: Error | null) => (err ? reject(err) : resolve(st)));
    });
  }

  /** Before the connection closes: finalised statements let sqlite3 close it cleanly. */
  async clear(): Promise<void> {
    const all = [...this.statements.values()];
    this.statements.clear();
    await Promise.all(all.map(p => p.then(st => new Promise<void>(resolve => st.finalize(() => resolve())), () => undefined)));
  }
}
