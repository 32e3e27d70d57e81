import type { Migration } from 'plinth/sdk';

export const migrations: Migration[] = [{
  name: '001-runs',
  async up(db) {
    const t = (n: string) => db.table(n);
    await db.query(`CREATE TABLE ${t('projects')} (id VARCHAR(40) PRIMARY KEY, owner VARCHAR(40) NOT NULL, name VARCHAR(200) NOT NULL, created_at VARCHAR(40) NOT NULL)`);
    await db.query(`CREATE TABLE ${t('repos')} (id VARCHAR(40) PRIMARY KEY, project_id VARCHAR(40) NOT NULL, name VARCHAR(200) NOT NULL, repo_path TEXT NOT NULL, created_at VARCHAR(40) NOT NULL)`);
    await db.query(`CREATE TABLE ${t('runs')} (id VARCHAR(40) PRIMARY KEY, owner VARCHAR(40) NOT NULL, project_id VARCHAR(40) NOT NULL,
      agent_id VARCHAR(200) NOT NULL, adapter VARCHAR(100) NOT NULL, task TEXT NOT NULL, status VARCHAR(20) NOT NULL, branch VARCHAR(250) NOT NULL,
      cwd TEXT NOT NULL, session_id VARCHAR(200), exit_code INTEGER, error TEXT, result TEXT, config TEXT NOT NULL, token_hash VARCHAR(64) NOT NULL,
      created_at VARCHAR(40) NOT NULL, updated_at VARCHAR(40) NOT NULL)`);
    await db.query(`CREATE INDEX ${t('runs_owner')} ON ${t('runs')} (owner, id)`);
    await db.query(`CREATE TABLE ${t('run_repos')} (run_id VARCHAR(40) NOT NULL, repo_id VARCHAR(40) NOT NULL, name VARCHAR(200) NOT NULL,
      repo_path TEXT NOT NULL, worktree TEXT NOT NULL, base_commit VARCHAR(64) NOT NULL, base_branch VARCHAR(250), PRIMARY KEY (run_id, repo_id))`);
    await db.query(`CREATE TABLE ${t('run_events')} (run_id VARCHAR(40) NOT NULL, seq INTEGER NOT NULL, type VARCHAR(60) NOT NULL,
      data TEXT NOT NULL, created_at VARCHAR(40) NOT NULL, PRIMARY KEY (run_id, seq))`);
  },
}, {
  // Run notifications (notifications.ts): each user's settings, and which runs notify.
  name: '002-run-notifications',
  async up(db) {
    await db.query(`CREATE TABLE ${db.table('notify_settings')} (owner VARCHAR(40) PRIMARY KEY, settings TEXT NOT NULL)`);
    await db.query(`CREATE TABLE ${db.table('run_notify')} (run_id VARCHAR(40) PRIMARY KEY, notify INTEGER NOT NULL)`);
  },
}, {
  // Several kernels on one database: a run is pinned to the node holding its PTY (run-pins.ts).
  name: '003-run-node',
  async up(db) {
    await db.query(`ALTER TABLE ${db.table('runs')} ADD COLUMN node_id VARCHAR(60)`);
  },
}];
