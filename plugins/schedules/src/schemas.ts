import { paginationQuery } from 'plinth/sdk';

export const IdParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 80 } } } as const;
// mine=true: only your own (an admin otherwise sees everyone's), as the job board's lists take it.
export const ListQuery = { type: 'object', additionalProperties: false, properties: { ...paginationQuery, mine: { type: 'boolean' } } } as const;

const JobTarget = {
  type: 'object',
  required: ['kind'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', minLength: 1, maxLength: 64 },
    request: { type: 'object', default: {} },
    title: { type: 'string', maxLength: 500 },
    max_retries: { type: 'integer', minimum: 0, maximum: 100 },
    // The peer daemon's job fields; their defaults are the jobs plugin's (resume for a cron schedule, fresh for a one-shot).
    continuity: { enum: ['fresh', 'resume'], description: 'Default resume for a cron schedule (each fire continues the previous fire\'s session), fresh for a one-shot' },
    process_scope: { type: 'string', minLength: 1, maxLength: 200, description: 'Default per_fire: one process per fire, released at its end' },
  },
} as const;

const fields = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  at: { type: 'string', minLength: 1, maxLength: 64, description: 'ISO 8601 date-time of a one-shot schedule' },
  cron: { type: 'string', minLength: 1, maxLength: 200, description: 'Cron expression, 5 fields or 6 with seconds' },
  timezone: { type: 'string', minLength: 1, maxLength: 100, description: 'IANA timezone of the cron expression (default UTC)' },
  job: JobTarget,
  template: { type: 'string', minLength: 1, maxLength: 200 },
  inputs: { type: 'object' },
  missed: { enum: ['run_once', 'skip'], description: 'A fire missed while the process was down: run it once on start, or skip it' },
  enabled: { type: 'boolean' },
} as const;

export const CreateBody = {
  type: 'object',
  additionalProperties: false,
  properties: fields,
  allOf: [
    { oneOf: [{ required: ['at'], not: { required: ['cron'] } }, { required: ['cron'], not: { required: ['at'] } }] },
    { oneOf: [{ required: ['job'], not: { required: ['template'] } }, { required: ['template'], not: { required: ['job'] } }] },
  ],
} as const;

export const PatchBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: fields,
  not: { anyOf: [{ required: ['at', 'cron'] }, { required: ['job', 'template'] }] },
} as const;
