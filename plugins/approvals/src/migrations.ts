import type { Migration } from 'plinth/sdk';

export const migrations: Migration[] = [
  {
    name: '001-requests',
    async up(db) {
      await db.query(`CREATE TABLE ${db.table('requests')} (
        id VARCHAR(40) PRIMARY KEY, kind VARCHAR(16) NOT NULL, tool VARCHAR(200), input TEXT, question TEXT,
        requester VARCHAR(40) NOT NULL, session_id VARCHAR(200), job_id VARCHAR(200), turn_id VARCHAR(200), via VARCHAR(100),
        risk VARCHAR(16), state VARCHAR(16) NOT NULL, created_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL,
        decided_by VARCHAR(200), decided_ms BIGINT, reason TEXT, answer TEXT)`);
      await db.query(`CREATE INDEX ${db.table('requests_state')} ON ${db.table('requests')} (state, expires_ms)`);
      await db.query(`CREATE INDEX ${db.table('requests_requester')} ON ${db.table('requests')} (requester, created_ms)`);
      await db.query(`CREATE TABLE ${db.table('audit')} (
        id VARCHAR(40) PRIMARY KEY, kind VARCHAR(16) NOT NULL, turn_id VARCHAR(200), tool VARCHAR(200), user_id VARCHAR(40) NOT NULL,
        request_id VARCHAR(40), decision VARCHAR(40) NOT NULL, detail TEXT, at_ms BIGINT NOT NULL)`);
      await db.query(`CREATE INDEX ${db.table('audit_turn')} ON ${db.table('audit')} (turn_id, kind)`);
    },
  },
];
