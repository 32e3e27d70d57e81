import { serialKey, type Migration } from 'plinth/sdk';

export const migrations: Migration[] = [
  {
    // Each kernel records itself (heartbeat; `generation` is the plugin generation that wrote the row,
    // so a reload's retiring generation does not remove the row its successor took over); open
    // connections per node and user; transient events too large for a NOTIFY payload.
    name: '001-nodes',
    async up(db) {
      await db.query(`CREATE TABLE ${db.table('nodes')} (
        id VARCHAR(60) PRIMARY KEY, url VARCHAR(300), version VARCHAR(40) NOT NULL,
        started_at VARCHAR(40) NOT NULL, heartbeat_at BIGINT NOT NULL, generation INTEGER NOT NULL DEFAULT 0)`);
      await db.query(`CREATE TABLE ${db.table('user_connections')} (
        node_id VARCHAR(60) NOT NULL, kind VARCHAR(20) NOT NULL, user_id VARCHAR(40) NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (node_id, kind, user_id))`);
      await db.query(`CREATE TABLE ${db.table('event_relay')} (
        id ${serialKey(db.dialect)}, event TEXT NOT NULL, created_at BIGINT NOT NULL)`);
    },
  },
];
