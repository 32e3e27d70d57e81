import type { Migration } from 'plinth/sdk';

/**
 * Portable SQL (SQLite and PostgreSQL): text ids and ISO timestamps, JSON kept as TEXT.
 * Unlike the other plugins (epoch-ms `BIGINT` columns, camelCase answers), agents keeps ISO text
 * times and answers its rows as stored (snake_case): its API, the dashboard, the OpenAI-compatible
 * plugin and their tests read those fields, and moving the times needs a data migration of
 * existing installs. Until both are done together, pages convert at the edge (see SessionStore.list).
 */
export const migrations: Migration[] = [
  {
    name: '001-agent-runtime',
    async up(db) {
      const t = (n: string) => db.table(n);
      await db.query(`CREATE TABLE ${t('agents')} (
        id VARCHAR(40) PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE, kind VARCHAR(10) NOT NULL,
        model VARCHAR(200) NOT NULL, instructions TEXT NOT NULL, allowed_tools TEXT NOT NULL,
        max_turns INTEGER NOT NULL, cli_name VARCHAR(100), provider_config TEXT, role VARCHAR(100),
        fallback_models TEXT NOT NULL, owner VARCHAR(40), created_at VARCHAR(40) NOT NULL, updated_at VARCHAR(40) NOT NULL)`);
      await db.query(`CREATE TABLE ${t('sessions')} (
        id VARCHAR(40) PRIMARY KEY, owner VARCHAR(40) NOT NULL, agent_id VARCHAR(40) NOT NULL, agent_name VARCHAR(100) NOT NULL,
        model VARCHAR(200), name VARCHAR(200), via VARCHAR(100), created_at VARCHAR(40) NOT NULL, updated_at VARCHAR(40) NOT NULL)`);
      await db.query(`CREATE INDEX ${t('sessions_owner')} ON ${t('sessions')} (owner, created_at)`);
      await db.query(`CREATE TABLE ${t('messages')} (
        id VARCHAR(40) PRIMARY KEY, session_id VARCHAR(40) NOT NULL, seq INTEGER NOT NULL, role VARCHAR(10) NOT NULL,
        content TEXT NOT NULL, tool_calls TEXT, tool_call_id VARCHAR(100), name VARCHAR(200), attachments TEXT,
        turn_id VARCHAR(40), partial INTEGER NOT NULL, created_at VARCHAR(40) NOT NULL)`);
      await db.query(`CREATE UNIQUE INDEX ${t('messages_seq')} ON ${t('messages')} (session_id, seq)`);
      await db.query(`CREATE TABLE ${t('frames')} (
        session_id VARCHAR(40) NOT NULL, seq INTEGER NOT NULL, event VARCHAR(20) NOT NULL, data TEXT NOT NULL,
        created_at VARCHAR(40) NOT NULL, PRIMARY KEY (session_id, seq))`);
      await db.query(`CREATE TABLE ${t('turns')} (
        id VARCHAR(40) PRIMARY KEY, session_id VARCHAR(40), owner VARCHAR(40) NOT NULL, agent VARCHAR(100),
        model VARCHAR(200) NOT NULL, model_selection TEXT NOT NULL, context TEXT NOT NULL, tool_calls TEXT NOT NULL,
        input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost DOUBLE PRECISION NOT NULL,
        latency_ms INTEGER NOT NULL, ttft_ms INTEGER, status VARCHAR(20) NOT NULL, error TEXT, via VARCHAR(100),
        created_at VARCHAR(40) NOT NULL, completed_at VARCHAR(40))`);
      await db.query(`CREATE INDEX ${t('turns_session')} ON ${t('turns')} (session_id, created_at)`);
      await db.query(`CREATE INDEX ${t('turns_owner')} ON ${t('turns')} (owner, created_at)`);
      await db.query(`CREATE TABLE ${t('feedback')} (
        turn_id VARCHAR(40) PRIMARY KEY, session_id VARCHAR(40), owner VARCHAR(40) NOT NULL, grade INTEGER NOT NULL,
        comment TEXT, created_at VARCHAR(40) NOT NULL, updated_at VARCHAR(40) NOT NULL)`);
      await db.query(`CREATE TABLE ${t('attachments')} (
        id VARCHAR(40) PRIMARY KEY, owner VARCHAR(40) NOT NULL, content_type VARCHAR(100) NOT NULL, size INTEGER NOT NULL,
        filename VARCHAR(255), sha256 VARCHAR(64) NOT NULL, created_at VARCHAR(40) NOT NULL)`);
      await db.query(`CREATE TABLE ${t('provider_keys')} (
        provider VARCHAR(50) PRIMARY KEY, secret TEXT NOT NULL, updated_at VARCHAR(40) NOT NULL)`);
    },
  },
  {
    // Sub-agents (subagents.ts): which profiles other agents may call, and what a turn's calls cost.
    name: '002-subagents',
    async up(db) {
      await db.query(`CREATE TABLE ${db.table('subagents')} (
        agent_id VARCHAR(40) PRIMARY KEY, name VARCHAR(100) NOT NULL, description TEXT NOT NULL, enabled INTEGER NOT NULL,
        max_cost_usd DOUBLE PRECISION, created_at VARCHAR(40) NOT NULL, updated_at VARCHAR(40) NOT NULL)`);
      await db.query(`ALTER TABLE ${db.table('turns')} ADD COLUMN delegations TEXT`);
    },
  },
  {
    // Agent instances (instances.ts): agents running as workers, and their durable queue (claimed with leases).
    name: '003-instances',
    async up(db) {
      await db.query(`CREATE TABLE ${db.table('instances')} (
        agent_id VARCHAR(40) PRIMARY KEY, agent_name VARCHAR(100) NOT NULL, owner VARCHAR(40) NOT NULL, owner_email VARCHAR(320) NOT NULL,
        owner_role VARCHAR(20) NOT NULL, desired VARCHAR(10) NOT NULL, state VARCHAR(10) NOT NULL, reason TEXT, session_id VARCHAR(40), updated_at VARCHAR(40) NOT NULL)`);
      await db.query(`CREATE TABLE ${db.table('instance_queue')} (
        id VARCHAR(40) PRIMARY KEY, agent_id VARCHAR(40) NOT NULL, dedupe_key VARCHAR(200), message TEXT NOT NULL, source VARCHAR(200) NOT NULL, state VARCHAR(10) NOT NULL,
        turn_id VARCHAR(40), result TEXT, error TEXT, attempts INTEGER NOT NULL, lease_owner VARCHAR(60), lease_until BIGINT NOT NULL,
        created_at VARCHAR(40) NOT NULL, updated_at VARCHAR(40) NOT NULL)`);
      await db.query(`CREATE INDEX ${db.table('instance_queue_next')} ON ${db.table('instance_queue')} (agent_id, state, created_at)`);
      await db.query(`CREATE UNIQUE INDEX ${db.table('instance_queue_key')} ON ${db.table('instance_queue')} (agent_id, dedupe_key)`);
    },
  },
  {
    // A closed session (POST /api/sessions/:id/close) keeps its history and takes no more messages.
    name: '004-session-closed',
    async up(db) {
      await db.query(`ALTER TABLE ${db.table('sessions')} ADD COLUMN closed_at VARCHAR(40)`);
    },
  },
  {
    // The models settings document an admin stores through PUT /api/settings/models (model-settings.ts).
    name: '005-model-settings',
    async up(db) {
      await db.query(`CREATE TABLE ${db.table('model_settings')} (name VARCHAR(40) PRIMARY KEY, value TEXT NOT NULL, updated_at VARCHAR(40) NOT NULL)`);
    },
  },
  {
    // Prompt-cache figures per turn as the provider reported them (usage.ts); NULL where it reported none.
    name: '006-turn-cache',
    async up(db) {
      await db.query(`ALTER TABLE ${db.table('turns')} ADD COLUMN cache_read_tokens INTEGER`);
      await db.query(`ALTER TABLE ${db.table('turns')} ADD COLUMN cache_write_tokens INTEGER`);
    },
  },
  {
    // A short name per session from the model (session-nicknames.ts).
    name: '007-session-nickname',
    async up(db) {
      await db.query(`ALTER TABLE ${db.table('sessions')} ADD COLUMN nickname VARCHAR(100)`);
    },
  },
  {
    // Why the model stopped (contract.ts FinishReason): a reply cut by the model's token limit
    // (`length`) looks like any other `ok` turn without it.
    name: '008-turn-finish-reason',
    async up(db) {
      await db.query(`ALTER TABLE ${db.table('turns')} ADD COLUMN finish_reason VARCHAR(20)`);
    },
  },
  {
    // Several kernels writing to one session (session-order.ts): its message counter and turn lease.
    name: '009-session-order',
    async up(db) {
      await db.query(`CREATE TABLE ${db.table('session_order')} (
        session_id VARCHAR(40) PRIMARY KEY, last_seq INTEGER NOT NULL, turn_holder VARCHAR(40), turn_until BIGINT NOT NULL)`);
    },
  },
];
