import type { Migration } from 'plinth/sdk';

/** Times are epoch milliseconds in BIGINT columns: comparable in SQL on both dialects. */
export const migrations: Migration[] = [
  {
    name: '001-channels',
    async up(db) {
      const t = (n: string) => db.table(n);
      await db.query(`CREATE TABLE ${t('inbound')} (
        id VARCHAR(40) PRIMARY KEY, channel VARCHAR(64) NOT NULL, dedupe_key VARCHAR(200) NOT NULL,
        trace_id VARCHAR(40) NOT NULL, kind VARCHAR(16) NOT NULL, chat_id VARCHAR(128) NOT NULL,
        sender_id VARCHAR(128) NOT NULL, sender_name VARCHAR(200), message_id VARCHAR(200), text TEXT NOT NULL,
        callback_data VARCHAR(200), callback_id VARCHAR(200), state VARCHAR(16) NOT NULL,
        lease_until BIGINT, received_at BIGINT NOT NULL, verified_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, error TEXT)`);
      await db.query(`CREATE UNIQUE INDEX ${t('inbound_dedupe')} ON ${t('inbound')} (channel, dedupe_key)`);
      await db.query(`CREATE INDEX ${t('inbound_state')} ON ${t('inbound')} (state)`);
      await db.query(`CREATE INDEX ${t('inbound_trace')} ON ${t('inbound')} (trace_id)`);

      await db.query(`CREATE TABLE ${t('deliveries')} (
        id VARCHAR(40) PRIMARY KEY, seq BIGINT NOT NULL, channel VARCHAR(64) NOT NULL, chat_id VARCHAR(128) NOT NULL,
        text TEXT NOT NULL, reply_to VARCHAR(200), buttons TEXT, dedupe_key VARCHAR(200), trace_id VARCHAR(40) NOT NULL,
        state VARCHAR(16) NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,
        replays INTEGER NOT NULL DEFAULT 0, parts_sent INTEGER NOT NULL DEFAULT 0, message_ids TEXT NOT NULL DEFAULT '[]',
        next_attempt_at BIGINT NOT NULL, lease_until BIGINT, last_error TEXT,
        created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, sent_at BIGINT)`);
      await db.query(`CREATE UNIQUE INDEX ${t('deliveries_dedupe')} ON ${t('deliveries')} (channel, dedupe_key)`);
      await db.query(`CREATE INDEX ${t('deliveries_due')} ON ${t('deliveries')} (state, next_attempt_at)`);
      await db.query(`CREATE INDEX ${t('deliveries_chat')} ON ${t('deliveries')} (channel, chat_id, state)`);
      await db.query(`CREATE INDEX ${t('deliveries_trace')} ON ${t('deliveries')} (trace_id)`);

      await db.query(`CREATE TABLE ${t('platform_messages')} (
        channel VARCHAR(64) NOT NULL, platform_id VARCHAR(200) NOT NULL, delivery_id VARCHAR(40) NOT NULL,
        trace_id VARCHAR(40) NOT NULL, PRIMARY KEY (channel, platform_id))`);

      await db.query(`CREATE TABLE ${t('trace_stages')} (
        id VARCHAR(40) PRIMARY KEY, trace_id VARCHAR(40) NOT NULL, subject_id VARCHAR(40) NOT NULL,
        stage VARCHAR(64) NOT NULL, at BIGINT NOT NULL, seq BIGINT NOT NULL, detail TEXT, error TEXT)`);
      await db.query(`CREATE INDEX ${t('trace_stages_trace')} ON ${t('trace_stages')} (trace_id)`);

      await db.query(`CREATE TABLE ${t('sessions')} (
        channel VARCHAR(64) NOT NULL, chat_id VARCHAR(128) NOT NULL, agent VARCHAR(200) NOT NULL,
        session_id VARCHAR(200) NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (channel, chat_id))`);

      await db.query(`CREATE TABLE ${t('pairings')} (
        channel VARCHAR(64) NOT NULL, sender_id VARCHAR(128) NOT NULL, chat_id VARCHAR(128) NOT NULL,
        code VARCHAR(16) NOT NULL, state VARCHAR(16) NOT NULL, created_at BIGINT NOT NULL, approved_at BIGINT,
        PRIMARY KEY (channel, sender_id))`);
      await db.query(`CREATE UNIQUE INDEX ${t('pairings_code')} ON ${t('pairings')} (code)`);
    },
  },
  {
    // Several kernels: one chat's messages are answered in arrival order, decided at claim time
    // (inbound-store.ts); `arrival` orders messages stored in the same millisecond, 0 for older rows.
    name: '002-inbound-arrival',
    async up(db) {
      await db.query(`ALTER TABLE ${db.table('inbound')} ADD COLUMN arrival BIGINT NOT NULL DEFAULT 0`);
      await db.query(`CREATE INDEX ${db.table('inbound_chat')} ON ${db.table('inbound')} (channel, chat_id, state)`);
    },
  },
];
