import type { Migration } from 'plinth/sdk';

export const migrations: Migration[] = [
  {
    name: '001-interviews',
    async up(db) {
      // answers: JSON; secret answers (API key, bot token) are SecretBox-encrypted inside it.
      // state: asking → proposed → applied (or failed).
      await db.query(`CREATE TABLE ${db.table('interviews')} (
        id VARCHAR(40) PRIMARY KEY, owner VARCHAR(40) NOT NULL, state VARCHAR(10) NOT NULL, answers TEXT NOT NULL,
        result TEXT, created_at VARCHAR(40) NOT NULL, updated_at VARCHAR(40) NOT NULL)`);
    },
  },
];
