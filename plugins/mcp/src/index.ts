import { toolPolicyRef, definePlugin, egressRef, errors, lazy, sandboxRef } from 'plinth/sdk';
import { agentRuntimeRef } from 'plinth/contracts/agents';
import { mcpExtensionsRef } from './contract';
import { memoryRef } from 'plinth/contracts/memory';
import { skillsRef } from 'plinth/contracts/skills';
import { McpExtensionRegistry } from './extensions';
import { McpCatalog } from './mcp-catalog';
import type { McpServerConfig } from './client-pool';
import { ClientNameParams } from './schemas';

// The MCP SDK is most of this plugin's load time: it is required on the first MCP request, and
// the client side only when servers are configured.
const serverSide = lazy(() => ({
  ...(require('./mcp-http') as typeof import('./mcp-http')),
  ...(require('./mcp-server') as typeof import('./mcp-server')),
}));
type McpServerInstance = ReturnType<typeof import('./mcp-server').createMcpServer>;

interface McpConfig {
  allowedHosts: string[];
  maxSessions: number;
  maxSessionsPerUser: number;
  sessionIdleMs: number;
  connectTimeoutMs: number;
  callTimeoutMs: number;
  mcpServers: Record<string, McpServerConfig>;
}

export default definePlugin({
  deps: {
    gate: toolPolicyRef.asOptional(),
    skills: skillsRef.asOptional(),
    memory: memoryRef.asOptional(),
    agents: agentRuntimeRef.asOptional(),
    egress: egressRef,
    sandbox: sandboxRef.asOptional(),
  },
  provides: [mcpExtensionsRef],
  async setup({ egress, http, tools, auth, log, clock, timers, kernel, config, dataDir, onDispose, gate, skills, memory, agents, sandbox, provide }) {
    const cfg = config as McpConfig;
    const extensions = new McpExtensionRegistry();
    const catalog = new McpCatalog({ tools, extensions, gate, skills, memory, agents });
    let endpointMade = false;
    const endpoint = lazy(() => {
      const { McpHttpEndpoint, createMcpServer } = serverSide();
      endpointMade = true;
      return new McpHttpEndpoint({
        auth, log, now: () => clock.now(),
        createServer: () => createMcpServer(catalog, extra => extra.authInfo!.extra!.user as any),
        allowedHosts: cfg.allowedHosts,
        ownHost: () => {
          try { return new URL(kernel.baseUrl()).hostname; } catch { return undefined; }
        },
        maxSessions: cfg.maxSessions,
        maxSessionsPerUser: cfg.maxSessionsPerUser,
        sessionIdleMs: cfg.sessionIdleMs,
      });
    });
    onDispose(() => { if (endpointMade) return endpoint().closeAll(); });
    onDispose(timers.setInterval(() => { if (endpointMade) endpoint().closeIdle(); }, 60_000));

    // A reload swaps many tools at once: tell clients once, after the burst.
    let pending: (() => void) | undefined;
    const notify = (send: (s: McpServerInstance) => Promise<void>) => {
      if (!endpointMade) return;
      pending?.();
      pending = timers.setTimeout(() => { pending = undefined; endpoint().broadcast(send); }, 20);
    };
    onDispose(() => pending?.());
    onDispose(tools.onChange(() => notify(s => s.sendToolListChanged())));
    onDispose(extensions.onChange(kind => notify(s => kind === 'prompts' ? s.sendPromptListChanged()
      : kind === 'resources' ? s.sendResourceListChanged() : s.sendToolListChanged())));

    const mcpRoute = { auth: 'public' as const, rawBody: true, bodyLimit: 4 * 1024 * 1024, summary: 'MCP Streamable HTTP endpoint (bearer: a Plinth token)' };
    http.post('/mcp', mcpRoute, req => endpoint().handle(req));
    http.get('/mcp', mcpRoute, req => endpoint().handle(req));
    http.delete('/mcp', mcpRoute, req => endpoint().handle(req));

    const hasServers = Object.keys(cfg.mcpServers ?? {}).length > 0;
    const pool = hasServers ? new (require('./client-pool') as typeof import('./client-pool')).McpClientPool({
      servers: cfg.mcpServers, tools, log, clock, timers, egress,
      connectTimeoutMs: cfg.connectTimeoutMs, callTimeoutMs: cfg.callTimeoutMs, sandbox, dataDir,
    }) : undefined;
    pool?.start();
    onDispose(() => pool?.stop());
    const clientPool = (name: string) => {
      if (!pool) throw errors.notFound(`MCP client ${name}`);
      return pool;
    };
    http.get('/api/runtime/mcp', { auth: 'admin', summary: 'MCP clients: state, tools, last error' }, () => ({ items: pool?.list() ?? [], nextCursor: null }));
    http.post('/api/runtime/mcp/clients/:name/discover', { auth: 'admin', params: ClientNameParams, summary: 'Reconnect if needed and list the server\'s tools again' },
      req => clientPool(req.params.name).discover(req.params.name));
    http.post('/api/runtime/mcp/clients/:name/disconnect', { auth: 'admin', params: ClientNameParams, summary: 'Disconnect and stop reconnecting until discover' },
      req => clientPool(req.params.name).disconnect(req.params.name));

    provide(mcpExtensionsRef, extensions);
  },
});
