import { serialKey, type Migration, type SqlRunner } from 'plinth/sdk';

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
        seq ${serialKey(db.dialect)},
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
  {
    // SQLite only: the owner goes into the FTS5 index as one token (weight 0 in the ranking), so
    // that a user's search intersects posting lists inside FTS5 instead of scoring and joining
    // every owner's matches; two common words paired matched tens of thousands of rows.
    name: '002-fts-owner',
    async up(db) {
      if (db.dialect !== 'sqlite') return;
      const t = db.table('entries');
      await db.query(`ALTER TABLE ${t} ADD COLUMN owner_tok TEXT GENERATED ALWAYS AS ('o' || lower(hex(owner)) || 'z') VIRTUAL`);
      for (const trigger of ['entries_ai', 'entries_ad', 'entries_au']) await db.query(`DROP TRIGGER ${db.table(trigger)}`);
      await db.query(`DROP TABLE ${db.table('fts')}`);
      await createSqliteFts(db, 'text, category, fact_key, owner_tok');
      // Existing entries are indexed once, here; new ones by the triggers.
      await db.query(`INSERT INTO ${db.table('fts')}(${db.table('fts')}) VALUES ('rebuild')`);
    },
  },
];

/**
 * An external-content FTS5 table (the text is stored once, in the entries table) kept in step by
 * triggers, as in https://sqlite.org/fts5.html#external_content_tables: a delete must hand FTS5
 * the old values so that it can remove exactly the tokens it indexed.
 */
async function createSqliteFts(db: SqlRunner, cols = 'text, category, fact_key'): Promise<void> {
  const t = db.table('entries');
  const f = db.table('fts');
  const values = (row: string) => cols.split(', ').map(c => `${row}.${c}`).join(', ');
  await db.query(`CREATE VIRTUAL TABLE ${f} USING fts5(${cols}, content='${t}', content_rowid='seq', tokenize='porter unicode61 remove_diacritics 2')`);
  await db.query(`CREATE TRIGGER ${db.table('entries_ai')} AFTER INSERT ON ${t} BEGIN
    INSERT INTO ${f}(rowid, ${cols}) VALUES (new.seq, ${values('new')}); END`);
  await db.query(`CREATE TRIGGER ${db.table('entries_ad')} AFTER DELETE ON ${t} BEGIN
    INSERT INTO ${f}(${f}, rowid, ${cols}) VALUES ('delete', old.seq, ${values('old')}); END`);
  await db.query(`CREATE TRIGGER ${db.table('entries_au')} AFTER UPDATE OF text, category, fact_key ON ${t} BEGIN
    INSERT INTO ${f}(${f}, rowid, ${cols}) VALUES ('delete', old.seq, ${values('old')});
    INSERT INTO ${f}(rowid, ${cols}) VALUES (new.seq, ${values('new')}); END`);
  // The owner token only filters: it must not count in the ranking (`rank`, `ORDER BY rank`).
  if (cols.includes('owner_tok')) await db.query(`INSERT INTO ${f}(${f}, rank) VALUES ('rank', 'bm25(1.0, 1.0, 1.0, 0.0)')`);
}
