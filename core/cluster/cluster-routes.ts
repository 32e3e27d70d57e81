import type { RouteHandler, RouteOptions } from '../../sdk';
import type { Method, RouteGroup } from '../http/routes';
import type { NodeRegistry } from './node-registry';
import { NODE_LAPSE_MS } from './node-registry';

/** `GET /api/cluster`: the kernels on this database whose heartbeat has not lapsed. */
export function registerClusterRoutes(group: RouteGroup, deps: { nodes: NodeRegistry; nodeId: string; transport: string | null }): void {
  const route = (method: Method, path: string, options: RouteOptions, handler: RouteHandler) => group.add({ method, path, options: { tags: ['kernel'], ...options }, handler });
  route('GET', '/api/cluster', { auth: 'admin', summary: 'Live kernels on this database (heartbeat within the lapse)' }, async () => ({
    self: deps.nodeId,
    events: deps.transport ?? 'local',
    lapseMs: NODE_LAPSE_MS,
    items: await deps.nodes.live(),
  }));
}
