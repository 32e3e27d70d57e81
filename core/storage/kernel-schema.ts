import { serialKey, type Migration } from '../../sdk';

/** The kernel's own tables (users, tokens, event log) in the `kernel_` namespace. */
export const kernelMigrations: Migration[] = [
  {
    name: '001-auth',
    async up(db) {
      await db.query(`CREATE TABLE ${db.table('users')} (
        id VARCHAR(40) PRIMARY KEY, email VARCHAR(320) NOT NULL UNIQUE, name VARCHAR(200),
        role VARCHAR(10) NOT NULL, password_hash VARCHAR(300), created_at VARCHAR(40) NOT NULL)`);
      await db.query(`CREATE TABLE ${db.table('tokens')} (
        id VARCHAR(40) PRIMARY KEY, user_id VARCHAR(40) NOT NULL, name VARCHAR(200), kind VARCHAR(10) NOT NULL,
        token_hash VARCHAR(64) NOT NULL UNIQUE, created_at VARCHAR(40) NOT NULL, expires_at VARCHAR(40))`);
      await db.query(`CREATE INDEX ${db.table('tokens_user')} ON ${db.table('tokens')} (user_id)`);
    },
  },
  {
    name: '002-events',
    async up(db) {
      await db.query(`CREATE TABLE ${db.table('events')} (
        id ${serialKey(db.dialect)}, topic VARCHAR(200) NOT NULL, owner VARCHAR(40), audience VARCHAR(10) NOT NULL,
        payload TEXT NOT NULL, time VARCHAR(40) NOT NULL)`);
      await db.query(`CREATE INDEX ${db.table('events_topic')} ON ${db.table('events')} (topic, id)`);
    },
  },
  {
    // Created the cluster's tables here until they moved to plugins/cluster (see 005).
    name: '003-cluster',
    async up() {},
  },
  {
    // Admins disable a user (PATCH /api/users/:id) without deleting what it owns; failed logins
    // are counted in the database, so a throttle holds across kernels.
    name: '004-users-shared',
    async up(db) {
      await db.query(`ALTER TABLE ${db.table('users')} ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0`);
      await db.query(`CREATE TABLE ${db.table('login_failures')} (client VARCHAR(100) NOT NULL, at BIGINT NOT NULL)`);
      await db.query(`CREATE INDEX ${db.table('login_failures_client')} ON ${db.table('login_failures')} (client, at)`);
    },
  },
  {
    // A token may be limited to scopes (space-separated; NULL: the user's full rights, as every
    // token made before this had). See sdk/token-scopes.ts.
    name: '005-token-scopes',
    async up(db) {
      await db.query(`ALTER TABLE ${db.table('tokens')} ADD COLUMN scopes VARCHAR(1000)`);
    },
  },
  {
    // The cluster's tables belong to plugins/cluster now (cluster_*); what they held is transient
    // (heartbeats, connection counts, relayed events), so nothing moves.
    name: '006-cluster-moved',
    async up(db) {
      for (const t of ['nodes', 'user_connections', 'event_relay']) await db.query(`DROP TABLE IF EXISTS ${db.table(t)}`);
    },
  },
  {
    // Failed logins are counted by plugins/accounts now (accounts_login_failures); they are
    // transient (a sliding minute), so nothing moves.
    name: '007-login-failures-moved',
    async up(db) {
      await db.query(`DROP TABLE IF EXISTS ${db.table('login_failures')}`);
    },
  },
];
