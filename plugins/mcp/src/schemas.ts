export const ClientNameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: '^[a-zA-Z0-9_-]{1,64}$' } },
} as const;
