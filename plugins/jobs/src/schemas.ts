import { paginationQuery } from 'plinth/sdk';

export const JOB_STATES = ['queued', 'ready', 'running', 'blocked', 'done', 'failed', 'cancelled', 'archived'] as const;

/** The job board's `?scheduledAt=`: hold the job (or the crew) until then. */
export const CreateQuery = { type: 'object', additionalProperties: false, properties: { scheduledAt: { type: 'string', format: 'date-time' } } } as const;
export const ClearQuery = { type: 'object', additionalProperties: false, properties: { status: { enum: ['done', 'failed', 'cancelled', 'archived'] } } } as const;
/** A file inside the job's folder: relative, never climbing out with `..`. */
const artifactName = { type: 'string', minLength: 1, maxLength: 300, pattern: '^(?!/)(?!(.*/)?\\.\\.(/|$))', description: 'A file the attempt leaves in the job\'s folder, kept as its artifact (GET /api/jobs/:id/artifact)' } as const;

export const IdParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 80 } } } as const;

export const ListQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...paginationQuery,
    status: { enum: [...JOB_STATES] },
    mine: { type: 'boolean' },
    view: { enum: ['full', 'summary'], default: 'full' },
    kind: { type: 'string', maxLength: 64 },
  },
} as const;

const jobFields = {
  kind: { type: 'string', minLength: 1, maxLength: 64 },
  title: { type: 'string', maxLength: 500 },
  request: { type: 'object' },
  max_retries: { type: 'integer', minimum: 0, maximum: 100 },
  result_schema: { type: 'object' },
  parents: { type: 'array', maxItems: 100, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 80 } },
  continuity: { enum: ['fresh', 'resume'], description: 'Default fresh (a new session each run); resume continues the previous result\'s session' },
  process_scope: { type: 'string', minLength: 1, maxLength: 200, description: 'Default per_fire: one process per job, what it leaves running is killed at its end; another name keeps it (default instance for request.instance)' },
  delay_ms: { type: 'integer', minimum: 0, maximum: 31_536_000_000 },
} as const;

/** Either one job (`kind` + `request`) or a crew from a template (`template` + `inputs`). */
export const CreateBody = {
  type: 'object',
  additionalProperties: false,
  properties: { ...jobFields, template: { type: 'string', minLength: 1, maxLength: 200 }, inputs: { type: 'object' }, scheduledAt: { type: 'string', format: 'date-time' } },
  oneOf: [{ required: ['kind'], not: { required: ['template'] } }, { required: ['template'], not: { required: ['kind'] } }],
} as const;

export const RedoBody = { type: 'object', additionalProperties: false, properties: { feedback: { type: 'string', maxLength: 20000 } } } as const;
export const CommentBody = { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', minLength: 1, maxLength: 20000 } } } as const;
export const ArtifactQuery = {
  type: 'object', additionalProperties: false,
  properties: { download: { enum: ['1', 'true', '0', 'false'], description: '1: send as an attachment' }, format: { enum: ['raw', 'html'], default: 'raw', description: 'html: Markdown rendered to sanitized HTML' } },
} as const;
export const StreamQuery = { type: 'object', properties: { last_event_id: { type: 'string', maxLength: 40 } } } as const;

export const BlockInput = {
  type: 'object',
  required: ['reason'],
  additionalProperties: false,
  properties: {
    reason: { type: 'string', minLength: 1, maxLength: 4000 },
    job_id: { type: 'string', maxLength: 80, description: 'The job to block; defaults to the job the calling turn runs for' },
  },
} as const;

export const CommandRequest = {
  type: 'object',
  additionalProperties: false,
  properties: {
    command: { type: 'string', minLength: 1, maxLength: 20000, description: 'Run through /bin/sh -c' },
    argv: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string', maxLength: 20000 } },
    cwd: { type: 'string', maxLength: 4000 },
    env: { type: 'object', additionalProperties: { type: 'string', maxLength: 20000 }, maxProperties: 100 },
    timeoutMs: { type: 'integer', minimum: 10, maximum: 86_400_000 },
    artifact: artifactName,
  },
  oneOf: [{ required: ['command'], not: { required: ['argv'] } }, { required: ['argv'], not: { required: ['command'] } }],
} as const;

export const AgentRequest = {
  type: 'object',
  required: ['agent', 'message'],
  properties: {
    agent: { type: 'string', minLength: 1, maxLength: 200 },
    message: { type: 'string', minLength: 1, maxLength: 200000 },
    sessionId: { type: 'string', maxLength: 200 },
    instance: { type: 'boolean', description: 'Send the message to the agent\'s running instance (its queue and session) instead of a turn of its own' },
    artifact: { ...artifactName, description: 'Keep the agent\'s final answer as the job\'s artifact under this name (e.g. report.md)' },
  },
} as const;

/** A `*.job_workflow.yaml` file. */
export const TemplateSchema = {
  type: 'object',
  required: ['name', 'steps'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._-]+$' },
    description: { type: 'string' },
    inputs: { type: 'object' },
    steps: {
      type: 'array', minItems: 1, maxItems: 200,
      items: {
        type: 'object', required: ['id', 'kind'], additionalProperties: false,
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' },
          kind: { type: 'string', minLength: 1, maxLength: 64 },
          title: { type: 'string' },
          request: { type: 'object', default: {} },
          depends_on: { type: 'array', items: { type: 'string' }, default: [] },
          max_retries: { type: 'integer', minimum: 0, maximum: 100 },
          result_schema: { type: 'object' },
        },
      },
    },
  },
} as const;
