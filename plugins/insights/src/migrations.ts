import type { Migration } from 'plinth/sdk';

export const migrations: Migration[] = [
  {
    name: '001-analyses',
    async up(db) {
      const t = db.table('analyses');
      // kind: turn | session | recommendations; target_id: the turn, the session, or the owner the recommendations are for.
      await db.query(`CREATE TABLE ${t} (
        id VARCHAR(40) PRIMARY KEY, owner VARCHAR(40) NOT NULL, kind VARCHAR(20) NOT NULL, target_id VARCHAR(80) NOT NULL,
        model VARCHAR(200) NOT NULL, text TEXT NOT NULL, findings TEXT NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
        cost DOUBLE PRECISION NOT NULL, created_at VARCHAR(40) NOT NULL)`);
      await db.query(`CREATE INDEX ${db.table('analyses_target')} ON ${t} (kind, target_id, created_at)`);
    },
  },
];
