import { paginationQuery } from 'plinth/sdk';

// Spaces are allowed inside a name (the coding-agent runner's names); the id is what URLs carry.
const name = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9](?:[A-Za-z0-9 ._-]*[A-Za-z0-9._-])?$' } as const;
const modelId = { type: 'string', minLength: 3, maxLength: 200, pattern: '^(default|[a-z0-9-]+/.+)$' } as const;

const agentFields = {
  name,
  kind: { type: 'string', enum: ['llm', 'cli'] },
  model: modelId,
  instructions: { type: 'string', maxLength: 100_000 },
  allowed_tools: { type: 'array', maxItems: 500, items: { type: 'string', minLength: 1, maxLength: 200 } },
  max_turns: { type: 'integer', minimum: 1, maximum: 1000 },
  cli_name: { type: ['string', 'null'], maxLength: 100 },
  provider_config: { type: ['object', 'null'] },
  role: { type: ['string', 'null'], maxLength: 100 },
  fallback_models: { type: 'array', maxItems: 10, items: modelId },
} as const;

export const AgentCreateBody = {
  type: 'object', additionalProperties: false, required: ['name'],
  properties: {
    ...agentFields,
    // The coding-agent runner's body (runner-body.ts): a project, tools as a comma string, a bare model.
    project_id: { type: 'string', minLength: 1, maxLength: 100 },
    allowed_tools: { anyOf: [agentFields.allowed_tools, { type: 'string', maxLength: 20_000 }] },
    model: { anyOf: [modelId, { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' }] },
  },
};
export const AgentUpdateBody = { type: 'object', additionalProperties: false, minProperties: 1, properties: agentFields };
export const RosterModelBody = { type: 'object', additionalProperties: false, required: ['model'], properties: { model: modelId } };
export const ProviderKeyBody = { type: 'object', additionalProperties: false, required: ['apiKey'], properties: { apiKey: { type: 'string', minLength: 1, maxLength: 1000 } } };
export const ProviderParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: '^[a-z0-9-]+$', maxLength: 50 } } };
export const BreakerParams = { type: 'object', required: ['provider'], properties: { provider: { type: 'string', pattern: '^[a-z0-9-]+$', maxLength: 50 } } };

export const SessionCreateBody = {
  type: 'object', additionalProperties: false, required: ['agent'],
  properties: { agent: { type: 'string', minLength: 1, maxLength: 100 }, model: modelId, name: { type: 'string', minLength: 1, maxLength: 200 } },
};
const messageFields = {
  message: { type: 'string', minLength: 1, maxLength: 1_000_000 },
  attachments: { type: 'array', maxItems: 20, uniqueItems: true, items: { type: 'string', pattern: '^att_[a-z2-7]{20}$' } },
} as const;
export const SessionMessageBody = { type: 'object', additionalProperties: false, required: ['message'], properties: messageFields };
export const AgentMessageBody = {
  type: 'object', additionalProperties: false, required: ['message'],
  properties: { ...messageFields, agent: { type: 'string', minLength: 1, maxLength: 100 }, sessionId: { type: 'string', maxLength: 40 }, model: modelId },
};
export const Pagination = { type: 'object', additionalProperties: false, properties: { ...paginationQuery } };
const nullableText = (maxLength: number) => ({ type: ['string', 'null'], minLength: 1, maxLength });
const url = { type: ['string', 'null'], maxLength: 2000, pattern: '^https?://[^\\s]+$' };
/** The models settings document: Plinth's camelCase fields, and the runner's snake_case ones as aliases; null removes a stored value. */
export const ModelSettingsBody = {
  type: 'object', additionalProperties: false, minProperties: 1,
  properties: {
    defaultModel: nullableText(200), default_model: nullableText(200),
    providers: {
      type: 'object', maxProperties: 20,
      additionalProperties: {
        type: 'object', additionalProperties: false, minProperties: 1,
        properties: {
          apiKey: nullableText(1000), api_key: nullableText(1000), baseUrl: url, base_url: url, model: nullableText(200),
          models: { type: ['array', 'null'], maxItems: 200, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 200 } },
        },
      },
    },
  },
};
export const SessionNameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 200 } } };
export const IdParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 100 } } };
export const FeedbackBody = {
  type: 'object', additionalProperties: false, required: ['grade'],
  properties: { grade: { type: 'integer', minimum: 1, maximum: 5 }, comment: { type: 'string', maxLength: 10_000 } },
};
const range = { since: { type: 'string', format: 'date-time' }, until: { type: 'string', format: 'date-time' } } as const;
export const CostsQuery = { type: 'object', additionalProperties: false, properties: { ...range, group: { type: 'string', enum: ['model', 'agent', 'day'], default: 'model' } } };
export const TimeseriesQuery = { type: 'object', additionalProperties: false, properties: { ...range, bucket: { type: 'string', enum: ['hour', 'day'], default: 'hour' } } };
/** `?model=` narrows to one model, empty meaning every model (the query form the compatibility table promises). */
export const EfficiencyQuery = { type: 'object', additionalProperties: false, properties: { ...range, model: { type: 'string', maxLength: 200 } } };
export const AttachmentQuery = { type: 'object', additionalProperties: false, properties: { filename: { type: 'string', maxLength: 255 } } };
/** The agent runtime's turn logs: `?session_id=&agent=&model=&since=&until=&limit=&cursor=`. */
export const TurnLogQuery = {
  type: 'object', additionalProperties: false,
  properties: { ...paginationQuery, ...range, session_id: { type: 'string', maxLength: 100 }, agent: { type: 'string', maxLength: 100 }, model: { type: 'string', maxLength: 200 } },
};
export const CacheQuery = {
  type: 'object', additionalProperties: false,
  properties: { ...range, agent: { type: 'string', maxLength: 100 }, model: { type: 'string', maxLength: 200 } },
};
export const NicknameBackfillBody = {
  type: 'object', additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20, description: 'Sessions to name in this call (the oldest first)' },
    force: { type: 'boolean', default: false, description: 'Name again sessions that have a nickname' },
    model: { type: 'string', minLength: 3, maxLength: 200, description: '<provider>/<model>; default: the default model' },
  },
};
export const WorkspaceQuery = {
  type: 'object', additionalProperties: false,
  properties: { path: { type: 'string', maxLength: 1000, description: 'A folder inside the workspace to list' }, max_entries: { type: 'integer', minimum: 1, maximum: 10000, default: 2000 } },
};
