import type { Migration } from 'plinth/sdk';

/** Screenshots: metadata here, bytes in the plugin's data dir (portable across SQLite and PostgreSQL). */
export const migrations: Migration[] = [
  {
    name: '001-screenshots',
    async up(db) {
      const t = db.table('screenshots');
      await db.query(`CREATE TABLE ${t} (
        id VARCHAR(40) PRIMARY KEY, owner VARCHAR(40) NOT NULL, session_id VARCHAR(40) NOT NULL, url TEXT NOT NULL,
        title TEXT NOT NULL, content_type VARCHAR(40) NOT NULL, size INTEGER NOT NULL, created_at VARCHAR(40) NOT NULL)`);
      await db.query(`CREATE INDEX ${db.table('screenshots_owner')} ON ${t} (owner, created_at)`);
    },
  },
];
