import { paginationQuery } from 'plinth/sdk';

export const IdParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 80 } } } as const;
export const TurnParams = { type: 'object', required: ['turn_id'], properties: { turn_id: { type: 'string', minLength: 1, maxLength: 200 } } } as const;

export const ListQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { ...paginationQuery, state: { enum: ['pending', 'approved', 'denied', 'expired'] }, kind: { enum: ['tool', 'question'] } },
} as const;

export const DenyBody = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: { type: 'string', maxLength: 2000 } },
} as const;

export const AskBody = {
  type: 'object',
  required: ['question'],
  additionalProperties: false,
  properties: {
    question: { type: 'string', minLength: 1, maxLength: 4000 },
    type: { enum: ['text', 'boolean', 'number', 'choice'], default: 'text' },
    choices: { type: 'array', minItems: 1, maxItems: 50, items: { type: 'string', minLength: 1, maxLength: 200 } },
    /** A question that gates a tool: it is denied when nobody answers in time (fail closed). */
    tool_permission: { type: 'boolean', default: false },
    tool: { type: 'string', maxLength: 200 },
    wait_ms: { type: 'integer', minimum: 1 },
    session_id: { type: 'string', maxLength: 200 },
    job_id: { type: 'string', maxLength: 200 },
    turn_id: { type: 'string', maxLength: 200 },
  },
} as const;

export const AnswerBody = {
  type: 'object',
  required: ['id', 'answer'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 80 },
    answer: { type: ['string', 'boolean', 'number'] },
    reason: { type: 'string', maxLength: 2000 },
  },
} as const;
