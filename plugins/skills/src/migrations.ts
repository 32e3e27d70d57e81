import type { Migration } from 'plinth/sdk';

export const migrations: Migration[] = [
  {
    name: '001-state',
    async up(db) {
      await db.query(`CREATE TABLE ${db.table('state')} (
        id VARCHAR(64) PRIMARY KEY, enabled INTEGER NOT NULL, source VARCHAR(20) NOT NULL,
        recorded_hash VARCHAR(64), recorded_at VARCHAR(40), updated_at VARCHAR(40) NOT NULL)`);
    },
  },
];
