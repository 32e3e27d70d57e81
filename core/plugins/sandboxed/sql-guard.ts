import { PlinthError, type SqlRunner } from '../../../sdk';
import { tablePrefix } from '../../storage/database';

const CATALOGUE_TOKENS = /^(sqlite_\w*|pg_\w*|information_schema|pragma|attach|detach|load_extension|vacuum|copy|dblink\w*|lo_\w*|current_setting|set_config)$/;
const CREATE_NAME = /\bcreate\s+(?:temp\w*\s+|unique\s+|virtual\s+)*(?:table|index|view|trigger)\s+(?:if\s+not\s+exists\s+)?("?[\w.]+"?)/gi;

/**
 * Storage for a sandboxed plugin: the kernel runs its queries, and refuses a statement that names a
 * table outside its namespace. The check works on the statement's words (string literals and
 * comments removed): any word that is the name of an existing table another plugin or the kernel
 * owns, any system catalogue or database-level command, and any CREATE of a name outside its
 * prefix is refused. On PostgreSQL it is the first of two walls: the plugin's statements run as a
 * role of its own that may read only its own schema (core/storage/plugin-role.ts).
 */
export class SqlGuard {
  private readonly own: string;
  private tables: { at: number; names: Set<string> } | undefined;

  constructor(private readonly pluginId: string, private readonly otherIds: () => string[]) {
    this.own = tablePrefix(pluginId);
  }

  private isOwn(name: string): boolean {
    if (!name.startsWith(this.own)) return false;
    // `hello_x_data` starts with `hello_` but belongs to plugin `hello-x`.
    return !this.otherIds().some(id => id !== this.pluginId && tablePrefix(id).length > this.own.length && name.startsWith(tablePrefix(id)));
  }

  async check(db: SqlRunner, sql: string): Promise<void> {
    const text = sql.replace(/'(?:[^']|'')*'/g, "''").replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ');
    const words = new Set((text.match(/"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*/g) ?? []).map(w => w.replace(/^["`[]|["`\]]$/g, '').toLowerCase()));
    const refuse = (what: string) => { throw new PlinthError(403, 'PLINTH_ERR_SANDBOX_DENIED', `a sandboxed plugin's query may use only its own tables (${this.own}*): ${what}`); };
    for (const w of words) if (CATALOGUE_TOKENS.test(w)) refuse(`"${w}" is not allowed`);
    for (const m of text.matchAll(CREATE_NAME)) {
      const name = m[1].replace(/"/g, '').toLowerCase().split('.').pop()!;
      if (!this.isOwn(name)) refuse(`it may not create "${name}"`);
    }
    const tables = await this.existingTables(db);
    for (const w of words) {
      const name = w.split('.').pop()!;
      if (tables.has(name) && !this.isOwn(name)) refuse(`"${name}" is not its table`);
    }
  }

  /** The tables of the database, at most a second old (another plugin may have created one since). */
  private async existingTables(db: SqlRunner): Promise<Set<string>> {
    if (this.tables && Date.now() - this.tables.at < 1000) return this.tables.names;
    const rows = db.dialect === 'sqlite'
      ? await db.query<{ name: string }>(`SELECT name FROM sqlite_master WHERE type IN ('table', 'view')`)
      // pg_class, not information_schema: a plugin's own role sees in the latter only what it may read.
      : await db.query<{ name: string }>(`SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`);
    this.tables = { at: Date.now(), names: new Set(rows.map(r => r.name.toLowerCase())) };
    return this.tables.names;
  }

  /** After DDL, look again. */
  forget(): void { this.tables = undefined; }
}
