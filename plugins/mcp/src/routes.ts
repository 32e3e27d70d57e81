import { errors, type HttpRouter, type RouteRequest } from 'plinth/sdk';
import type { McpClientPool } from './client-pool';
import { ClientNameParams } from './schemas';

export interface McpRouteDeps {
  /** The Streamable HTTP endpoint, made on the first request. */
  handle(req: RouteRequest): Promise<unknown> | unknown;
  /** Undefined when no MCP servers are configured. */
  pool: McpClientPool | undefined;
}

/** `/mcp` (this kernel as an MCP server) and `/api/runtime/mcp` (its clients of other servers). */
export function registerRoutes(http: HttpRouter, { handle, pool }: McpRouteDeps): void {
  const mcpRoute = { auth: 'public' as const, rawBody: true, bodyLimit: 4 * 1024 * 1024, summary: 'MCP Streamable HTTP endpoint (bearer: a Plinth token)' };
  http.post('/mcp', mcpRoute, req => handle(req));
  http.get('/mcp', mcpRoute, req => handle(req));
  http.delete('/mcp', mcpRoute, req => handle(req));

  const clientPool = (name: string) => {
    if (!pool) throw errors.notFound(`MCP client ${name}`);
    return pool;
  };
  http.get('/api/runtime/mcp', { auth: 'admin', summary: 'MCP clients: state, tools, last error' }, () => ({ items: pool?.list() ?? [], nextCursor: null }));
  http.post('/api/runtime/mcp/clients/:name/discover', { auth: 'admin', params: ClientNameParams, summary: 'Reconnect if needed and list the server\'s tools again' },
    req => clientPool(req.params.name).discover(req.params.name));
  http.post('/api/runtime/mcp/clients/:name/disconnect', { auth: 'admin', params: ClientNameParams, summary: 'Disconnect and stop reconnecting until discover' },
    req => clientPool(req.params.name).disconnect(req.params.name));
}
