import type { Migration } from 'plinth/sdk';

export const migrations: Migration[] = [
  {
    name: '001-tasks',
    async up(db) {
      await db.query(`CREATE TABLE ${db.table('tasks')} (
        id VARCHAR(100) PRIMARY KEY, owner VARCHAR(200) NOT NULL, context_id VARCHAR(100),
        state INTEGER NOT NULL, task TEXT NOT NULL, updated_at VARCHAR(40) NOT NULL)`);
      await db.query(`CREATE INDEX ${db.table('tasks_owner')} ON ${db.table('tasks')} (owner, updated_at)`);
    },
  },
];
