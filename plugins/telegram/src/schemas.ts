export const SetWebhookBody = {
  type: 'object', additionalProperties: false,
  properties: {
    url: { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2000 },
    dropPendingUpdates: { type: 'boolean', default: false },
  },
} as const;
