import type { Migration, SqlRunner } from 'plinth/sdk';

/**
 * One table for the three kinds, so one full-text index ranks them against each other.
 * `fact_uid` is `category \x1f key` for semantic facts only: NULLs never collide in a UNIQUE index
 * on either dialect, so the one-fact-per-key rule applies to facts and nothing else.
 */
export const migrations: Migration[] = [
  {
    name: '001-entries',
    async up(db) {
      const t = db.table('entries');
      const pg = db.dialect === 'postgres';
      await db.query(`CREATE TABLE ${t} (
        seq ${pg ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT'},
        id VARCHAR(40) NOT NULL UNIQUE,
        owner VARCHAR(40) NOT NULL,
        kind VARCHAR(10) NOT NULL,
        session_id VARCHAR(200),
        category VARCHAR(100),
        fact_key VARCHAR(200),
        fact_uid VARCHAR(310),
        text TEXT NOT NULL,
        source VARCHAR(200),
        confidence ${pg ? 'DOUBLE PRECISION' : 'REAL'},
        topic VARCHAR(200),
        event_id VARCHAR(100) UNIQUE,
        occurred_at VARCHAR(40) NOT NULL,
        created_at VARCHAR(40) NOT NULL,
        updated_at VARCHAR(40) NOT NULL
        ${pg ? `, tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text || ' ' || coalesce(category, '') || ' ' || coalesce(fact_key, ''))) STORED` : ''})`);
      await db.query(`CREATE UNIQUE INDEX ${db.table('entries_fact')} ON ${t} (owner, fact_uid)`);
      await db.query(`CREATE INDEX ${db.table('entries_kind')} ON ${t} (owner, kind, seq)`);
      await db.query(`CREATE INDEX ${db.table('entries_session')} ON ${t} (owner, kind, session_id, seq)`);
      await db.query(`CREATE INDEX ${db.table('entries_time')} ON ${t} (owner, kind, occurred_at)`);
      if (pg) await db.query(`CREATE INDEX ${db.table('entries_tsv')} ON ${t} USING GIN (tsv)`);
      else await createSqliteFts(db);
    },
  },
];

/**
 * An external-content FTS5 table (the text is stored once, in the entries table) kept in step by
 * triggers, as in https://sqlite.org/fts5.html#external_content_tables: a delete must hand FTS5
 * the old values so that it can remove exactly the tokens it indexed.
 */
async function createSqliteFts(db: SqlRunner): Promise<void> {
  const t = db.table('entries');
  const f = db.table('fts');
  const cols = 'text, category, fact_key';
  await db.query(`CREATE VIRTUAL TABLE ${f} USING fts5(${cols}, content='${t}', content_rowid='seq', tokenize='porter unicode61 remove_diacritics 2')`);
  await db.query(`CREATE TRIGGER ${db.table('entries_ai')} AFTER INSERT ON ${t} BEGIN
    INSERT INTO ${f}(rowid, ${cols}) VALUES (new.seq, new.text, new.category, new.fact_key); END`);
  await db.query(`CREATE TRIGGER ${db.table('entries_ad')} AFTER DELETE ON ${t} BEGIN
    INSERT INTO ${f}(${f}, rowid, ${cols}) VALUES ('delete', old.seq, old.text, old.category, old.fact_key); END`);
  await db.query(`CREATE TRIGGER ${db.table('entries_au')} AFTER UPDATE OF ${cols} ON ${t} BEGIN
    INSERT INTO ${f}(${f}, rowid, ${cols}) VALUES ('delete', old.seq, old.text, old.category, old.fact_key);
    INSERT INTO ${f}(rowid, ${cols}) VALUES (new.seq, new.text, new.category, new.fact_key); END`);
}
