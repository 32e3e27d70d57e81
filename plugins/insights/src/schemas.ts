export const IdParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 80 } } } as const;

export const AnalyzeBody = {
  type: 'object',
  additionalProperties: false,
  properties: { model: { type: 'string', pattern: '^[a-z0-9-]+/.+$', maxLength: 200, description: 'Model to use instead of the configured one' } },
} as const;
