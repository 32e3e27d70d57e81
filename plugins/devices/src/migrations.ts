import type { Migration } from 'plinth/sdk';

export const migrations: Migration[] = [
  {
    name: '001-devices',
    async up(db) {
      // state: pending → paired → revoked; pending → locked (too many wrong codes). code_hash: sha256 of the code.
      await db.query(`CREATE TABLE ${db.table('devices')} (
        id VARCHAR(40) PRIMARY KEY, owner VARCHAR(40) NOT NULL, name VARCHAR(100) NOT NULL, state VARCHAR(10) NOT NULL,
        code_hash VARCHAR(64) NOT NULL, code_expires_at VARCHAR(40) NOT NULL, attempts INTEGER NOT NULL, token_id VARCHAR(40),
        created_at VARCHAR(40) NOT NULL, paired_at VARCHAR(40), revoked_at VARCHAR(40))`);
      await db.query(`CREATE INDEX ${db.table('devices_owner')} ON ${db.table('devices')} (owner, created_at)`);
    },
  },
];
