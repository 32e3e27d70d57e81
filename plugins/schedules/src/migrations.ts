import type { Migration } from 'plinth/sdk';

export const migrations: Migration[] = [
  {
    name: '001-schedules',
    async up(db) {
      await db.query(`CREATE TABLE ${db.table('schedules')} (
        id VARCHAR(40) PRIMARY KEY, owner VARCHAR(40) NOT NULL, name VARCHAR(200), kind VARCHAR(8) NOT NULL, cron VARCHAR(200),
        timezone VARCHAR(100) NOT NULL, at_ms BIGINT, target TEXT NOT NULL, enabled INTEGER NOT NULL, missed VARCHAR(16) NOT NULL,
        next_run_ms BIGINT, last_run_ms BIGINT, lease_owner VARCHAR(60), lease_until BIGINT, created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL)`);
      await db.query(`CREATE INDEX ${db.table('schedules_due')} ON ${db.table('schedules')} (enabled, next_run_ms)`);
      await db.query(`CREATE INDEX ${db.table('schedules_owner')} ON ${db.table('schedules')} (owner, created_ms)`);
      // The idempotency key of a fire: (schedule, due time). A second kernel, or the same one
      // after a restart, can never record the same fire twice.
      await db.query(`CREATE TABLE ${db.table('fires')} (
        schedule_id VARCHAR(40) NOT NULL, due_ms BIGINT NOT NULL, owner VARCHAR(40) NOT NULL, fired_ms BIGINT NOT NULL, status VARCHAR(16) NOT NULL,
        job_ids TEXT, crew_id VARCHAR(40), error TEXT, PRIMARY KEY (schedule_id, due_ms))`);
      await db.query(`CREATE INDEX ${db.table('fires_owner')} ON ${db.table('fires')} (owner, fired_ms)`);
    },
  },
];
