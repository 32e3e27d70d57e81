export const HelloBody = {
  type: 'object',
  required: ['name', 'cardUrl'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-zA-Z0-9_-]{1,64}$' },
    cardUrl: { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2000 },
    /** The bearer token to send to that peer (never listed back). */
    token: { type: 'string', minLength: 1, maxLength: 4000 },
  },
} as const;

export const SendInput = {
  type: 'object',
  required: ['peer', 'message'],
  additionalProperties: false,
  properties: {
    peer: { type: 'string', minLength: 1, maxLength: 64 },
    message: { type: 'string', minLength: 1, maxLength: 100_000 },
    timeoutMs: { type: 'integer', minimum: 100, maximum: 600_000 },
  },
} as const;
