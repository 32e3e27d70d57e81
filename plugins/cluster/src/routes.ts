import type { HttpRouter } from 'plinth/sdk';
import { NODE_LAPSE_MS, type NodeRegistry } from './node-registry';
import { ClusterResponse } from './schemas';

/** `GET /api/cluster`: the kernels on this database whose heartbeat has not lapsed. */
export function registerRoutes(http: HttpRouter, deps: { nodes: NodeRegistry; nodeId: string; transport: string }): void {
  http.get('/api/cluster', { auth: 'admin', summary: 'Live kernels on this database (heartbeat within the lapse)', response: ClusterResponse }, async () => ({
    self: deps.nodeId,
    events: deps.transport,
    lapseMs: NODE_LAPSE_MS,
    items: await deps.nodes.live(),
  }));
}
