import type { Migration } from 'plinth/sdk';

/** Times are epoch milliseconds in BIGINT columns: comparable in SQL on both dialects. */
export const migrations: Migration[] = [
  {
    name: '001-mesh',
    async up(db) {
      const t = (n: string) => db.table(n);
      await db.query(`CREATE TABLE ${t('peers')} (
        id VARCHAR(40) PRIMARY KEY, owner VARCHAR(64) NOT NULL, name VARCHAR(120) NOT NULL, circle VARCHAR(120) NOT NULL,
        role VARCHAR(16) NOT NULL, backend VARCHAR(40) NOT NULL, cwd TEXT, host VARCHAR(200) NOT NULL, binding TEXT NOT NULL,
        runtime VARCHAR(16) NOT NULL, inbound VARCHAR(16) NOT NULL, lifecycle VARCHAR(16) NOT NULL, turn_state VARCHAR(16),
        description TEXT, description_until BIGINT, last_seen BIGINT NOT NULL, evidence_at BIGINT, created_ms BIGINT NOT NULL, retired_at BIGINT)`);
      await db.query(`CREATE UNIQUE INDEX ${t('peers_name')} ON ${t('peers')} (owner, circle, name)`);
      await db.query(`CREATE INDEX ${t('peers_lifecycle')} ON ${t('peers')} (lifecycle)`);

      await db.query(`CREATE TABLE ${t('peer_events')} (
        id VARCHAR(40) PRIMARY KEY, peer_id VARCHAR(40) NOT NULL, kind VARCHAR(40) NOT NULL, detail TEXT, at BIGINT NOT NULL)`);
      await db.query(`CREATE INDEX ${t('peer_events_peer')} ON ${t('peer_events')} (peer_id)`);

      await db.query(`CREATE TABLE ${t('asks')} (
        id VARCHAR(40) PRIMARY KEY, owner VARCHAR(64) NOT NULL, from_peer VARCHAR(40) NOT NULL, to_peer VARCHAR(40) NOT NULL,
        text TEXT NOT NULL, reply_to VARCHAR(40), question TEXT, state VARCHAR(16) NOT NULL, close_reason VARCHAR(24),
        reply TEXT, reply_via VARCHAR(8), created_ms BIGINT NOT NULL, expires_at BIGINT NOT NULL, closed_at BIGINT)`);
      await db.query(`CREATE INDEX ${t('asks_open')} ON ${t('asks')} (state, expires_at)`);

      await db.query(`CREATE TABLE ${t('queued')} (
        id VARCHAR(40) PRIMARY KEY, to_peer VARCHAR(40) NOT NULL, frame TEXT NOT NULL, trace_id VARCHAR(40) NOT NULL,
        created_ms BIGINT NOT NULL, expires_at BIGINT NOT NULL)`);
      await db.query(`CREATE INDEX ${t('queued_peer')} ON ${t('queued')} (to_peer, created_ms)`);

      // The same ledger shape as the channels plugin's trace_stages, served through its GET /api/traces/:id.
      await db.query(`CREATE TABLE ${t('trace_stages')} (
        id VARCHAR(40) PRIMARY KEY, trace_id VARCHAR(40) NOT NULL, subject_id VARCHAR(40) NOT NULL, owner VARCHAR(64) NOT NULL,
        stage VARCHAR(64) NOT NULL, at BIGINT NOT NULL, seq BIGINT NOT NULL, detail TEXT, error TEXT)`);
      await db.query(`CREATE INDEX ${t('trace_stages_trace')} ON ${t('trace_stages')} (trace_id)`);
      await db.query(`CREATE INDEX ${t('trace_stages_subject')} ON ${t('trace_stages')} (subject_id)`);
    },
  },
  {
    // The API token the kernel minted for a peer's hook (link, rehook): revoked when the peer retires.
    name: '002-hook-token',
    async up(db) {
      await db.query(`ALTER TABLE ${db.table('peers')} ADD COLUMN hook_token_id VARCHAR(64)`);
    },
  },
  {
    // Several kernels on one database: which kernel holds a peer's inbox, and the kernels' heartbeats (inbox-relay.ts).
    name: '003-inbox-node',
    async up(db) {
      await db.query(`ALTER TABLE ${db.table('peers')} ADD COLUMN inbox_node VARCHAR(40)`);
      await db.query(`CREATE TABLE ${db.table('mesh_nodes')} (id VARCHAR(40) PRIMARY KEY, beat_ms BIGINT NOT NULL)`);
    },
  },
];
