import { paginationQuery } from 'plinth/sdk';

const KIND = { type: 'string', enum: ['working', 'episodic', 'semantic'] } as const;
const SESSION = { type: 'string', minLength: 1, maxLength: 200 } as const;
const CATEGORY = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[^/]+$' } as const;
const KEY = { type: 'string', minLength: 1, maxLength: 200 } as const;
const TEXT = { type: 'string', minLength: 1, maxLength: 20000 } as const;
const SOURCE = { type: 'string', minLength: 1, maxLength: 200 } as const;
const CONFIDENCE = { type: 'number', minimum: 0, maximum: 1 } as const;
const TIME = { type: 'string', format: 'date-time' } as const;

export const PageQuery = { type: 'object', additionalProperties: false, properties: { ...paginationQuery } };
export const EpisodicQuery = { type: 'object', additionalProperties: false, properties: { ...paginationQuery, from: TIME, to: TIME } };

export const SessionParams = { type: 'object', required: ['session_id'], properties: { session_id: SESSION } };
export const CategoryParams = { type: 'object', required: ['category'], properties: { category: CATEGORY } };
export const FactParams = { type: 'object', required: ['category', 'key'], properties: { category: CATEGORY, key: KEY } };
export const IdParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 40 } } };

export const WorkingBody = {
  type: 'object', required: ['session_id', 'text'], additionalProperties: false,
  properties: { session_id: SESSION, text: TEXT, source: SOURCE },
};
export const WorkingInSessionBody = { type: 'object', required: ['text'], additionalProperties: false, properties: { text: TEXT, source: SOURCE } };
export const EpisodicBody = {
  type: 'object', required: ['text'], additionalProperties: false,
  properties: { text: TEXT, source: SOURCE, session_id: SESSION, occurred_at: TIME },
};
export const SemanticBody = {
  type: 'object', required: ['category', 'key', 'value'], additionalProperties: false,
  properties: { category: CATEGORY, key: KEY, value: TEXT, source: SOURCE, confidence: CONFIDENCE },
};
export const SemanticInCategoryBody = {
  type: 'object', required: ['key', 'value'], additionalProperties: false,
  properties: { key: KEY, value: TEXT, source: SOURCE, confidence: CONFIDENCE },
};

export const SearchQuery = {
  type: 'object', required: ['q'], additionalProperties: false,
  properties: {
    q: { type: 'string', minLength: 1, maxLength: 1000 },
    kind: KIND, category: CATEGORY, session_id: SESSION,
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    raw: { type: 'boolean', default: false },
  },
};

export const SearchToolInput = {
  type: 'object', required: ['query'], additionalProperties: false,
  properties: {
    query: { type: 'string', minLength: 1, maxLength: 1000, description: 'Words to look for; every word must match' },
    kind: KIND, category: CATEGORY,
    limit: { type: 'integer', minimum: 1, maximum: 50, default: 10 },
  },
};

export const RememberToolInput = {
  type: 'object', required: ['text'], additionalProperties: false,
  properties: {
    text: { ...TEXT, description: 'What to remember (for a fact: its value)' },
    kind: { ...KIND, default: 'semantic', description: 'semantic: a lasting fact (needs category and key); episodic: something that happened; working: scratch for this session' },
    category: CATEGORY, key: KEY, confidence: CONFIDENCE,
  },
};

export const ForgetToolInput = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', minLength: 1, maxLength: 40 } } };
