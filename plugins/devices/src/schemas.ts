export const IdParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 80 } } } as const;
export const PairBody = {
  type: 'object', additionalProperties: false, required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 100, description: 'What the device is, e.g. "phone" or "laptop CLI"' } },
} as const;
export const VerifyBody = {
  type: 'object', additionalProperties: false, required: ['code'],
  properties: { code: { type: 'string', minLength: 1, maxLength: 20 } },
} as const;
export const DiscoveredParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^lan_[0-9a-f]{16}$' } } } as const;
