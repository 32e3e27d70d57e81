import { paginationQuery } from 'plinth/sdk';

export const IdParams = {
  type: 'object', required: ['id'], additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 60, pattern: '^[A-Za-z0-9_-]+$' } },
} as const;

export const CodeParams = {
  type: 'object', required: ['code'], additionalProperties: false,
  properties: { code: { type: 'string', minLength: 4, maxLength: 16, pattern: '^[A-Z0-9]+$' } },
} as const;

export const DeadLetterQuery = {
  type: 'object', additionalProperties: false,
  properties: { ...paginationQuery, cursor: { type: 'string', pattern: '^[0-9]{1,20}$' } },
} as const;

export const InboundQuery = {
  type: 'object', additionalProperties: false,
  properties: { channel: { type: 'string', minLength: 1, maxLength: 64 }, limit: paginationQuery.limit },
} as const;

export const ChannelStatus = {
  type: 'object',
  properties: {
    channels: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' }, registered: { type: 'boolean' }, configured: { type: 'boolean' }, detail: { type: 'string' },
          lastInboundAt: { type: ['string', 'null'] }, lastOutboundAt: { type: ['string', 'null'] },
          inbound: { type: 'object' }, deliveries: { type: 'object' }, failures: { type: 'integer' },
        },
      },
    },
  },
} as const;
