export const ClusterResponse = {
  type: 'object',
  properties: {
    self: { type: 'string', description: 'This kernel\'s node id (also in X-Plinth-Node)' },
    events: { enum: ['local', 'postgres', 'redis'], description: 'How events reach the other kernels' },
    lapseMs: { type: 'integer', description: 'A node whose heartbeat is older is dead to the others' },
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' }, url: { type: ['string', 'null'] }, version: { type: 'string' },
          startedAt: { type: 'string' }, lastHeartbeat: { type: 'string' }, self: { type: 'boolean' },
        },
      },
    },
  },
} as const;
