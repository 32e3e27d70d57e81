import { serialKey, type Migration } from 'plinth/sdk';

/** Jobs, their links (the graph), events, comments, the dispatchers' heartbeats and the attempts' artifacts. */
export const migrations: Migration[] = [
  {
    name: '001-jobs',
    async up(db) {
      await db.query(`CREATE TABLE ${db.table('jobs')} (
        id VARCHAR(40) PRIMARY KEY, owner VARCHAR(40) NOT NULL, kind VARCHAR(64) NOT NULL, title TEXT, request TEXT NOT NULL,
        state VARCHAR(16) NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, max_retries INTEGER NOT NULL, result TEXT, result_schema TEXT,
        error TEXT, feedback TEXT, continuity VARCHAR(16), process_scope VARCHAR(200), crew_id VARCHAR(40), step VARCHAR(100),
        template VARCHAR(200), source VARCHAR(200), idempotency_key VARCHAR(300) UNIQUE, lease_owner VARCHAR(60), lease_until BIGINT,
        run_after BIGINT NOT NULL, pid INTEGER, child_count INTEGER NOT NULL DEFAULT 0, parent_count INTEGER NOT NULL DEFAULT 0, created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL,
        ready_ms BIGINT, started_ms BIGINT, finished_ms BIGINT)`);
      await db.query(`CREATE INDEX ${db.table('jobs_dispatch')} ON ${db.table('jobs')} (state, run_after)`);
      await db.query(`CREATE INDEX ${db.table('jobs_owner')} ON ${db.table('jobs')} (owner, created_ms)`);
      await db.query(`CREATE INDEX ${db.table('jobs_created')} ON ${db.table('jobs')} (created_ms)`);
      await db.query(`CREATE INDEX ${db.table('jobs_crew')} ON ${db.table('jobs')} (crew_id)`);
      await db.query(`CREATE TABLE ${db.table('links')} (parent_id VARCHAR(40) NOT NULL, child_id VARCHAR(40) NOT NULL, PRIMARY KEY (parent_id, child_id))`);
      await db.query(`CREATE INDEX ${db.table('links_child')} ON ${db.table('links')} (child_id)`);
      await db.query(`CREATE TABLE ${db.table('events')} (seq ${serialKey(db.dialect)}, job_id VARCHAR(40) NOT NULL, type VARCHAR(32) NOT NULL, data TEXT, at_ms BIGINT NOT NULL)`);
      await db.query(`CREATE INDEX ${db.table('events_job')} ON ${db.table('events')} (job_id, seq)`);
      await db.query(`CREATE TABLE ${db.table('comments')} (id VARCHAR(40) PRIMARY KEY, job_id VARCHAR(40) NOT NULL, author VARCHAR(40) NOT NULL, text TEXT NOT NULL, created_ms BIGINT NOT NULL)`);
      await db.query(`CREATE INDEX ${db.table('comments_job')} ON ${db.table('comments')} (job_id, created_ms)`);
      await db.query(`CREATE TABLE ${db.table('dispatchers')} (kernel_id VARCHAR(60) PRIMARY KEY, host VARCHAR(200) NOT NULL, started_ms BIGINT NOT NULL, heartbeat_ms BIGINT NOT NULL, running INTEGER NOT NULL)`);
    },
  },
  {
    // The bytes live in the database (base64 text, the same on SQLite and PostgreSQL) so that any
    // kernel of a cluster serves an artifact another kernel's job saved.
    name: '002-artifacts',
    async up(db) {
      await db.query(`CREATE TABLE ${db.table('artifacts')} (job_id VARCHAR(40) NOT NULL, attempt INTEGER NOT NULL, name VARCHAR(300) NOT NULL,
        media_type VARCHAR(200) NOT NULL, size INTEGER NOT NULL, body TEXT NOT NULL, created_ms BIGINT NOT NULL, PRIMARY KEY (job_id, attempt))`);
    },
  },
  {
    // A recurring job resumes the session of its schedule's last finished fire: looked up by source.
    name: '003-jobs-source',
    async up(db) {
      await db.query(`CREATE INDEX ${db.table('jobs_source')} ON ${db.table('jobs')} (source, finished_ms)`);
    },
  },
  {
    // The W3C traceparent of the request (or agent turn, tool) that asked for the job: its span,
    // run later and maybe on another kernel, continues that trace (plugins/observability).
    name: '004-jobs-trace-parent',
    async up(db) {
      await db.query(`ALTER TABLE ${db.table('jobs')} ADD COLUMN trace_parent VARCHAR(64)`);
    },
  },
];
