import {
  agentRuntimeRef, approvalGateRef, definePlugin, mcpExtensionsRef, memoryRef, skillsRef,
} from 'plinth/sdk';
import { McpExtensionRegistry } from './extensions';
import { McpCatalog } from './mcp-catalog';
import { McpHttpEndpoint } from './mcp-http';
import { createMcpServer } from './mcp-server';
import { McpClientPool, type McpServerConfig } from './client-pool';
import { ClientNameParams } from './schemas';

interface McpConfig {
  allowedHosts: string[];
  maxSessions: number;
  sessionIdleMs: number;
  connectTimeoutMs: number;
  callTimeoutMs: number;
  mcpServers: Record<string, McpServerConfig>;
}

export default definePlugin({
  deps: {
    gate: approvalGateRef.asOptional(),
    skills: skillsRef.asOptional(),
    memory: memoryRef.asOptional(),
    agents: agentRuntimeRef.asOptional(),
  },
  provides: [mcpExtensionsRef],
  async setup({ http, tools, auth, log, clock, timers, kernel, config, onDispose, gate, skills, memory, agents }) {
    const cfg = config as McpConfig;
    const extensions = new McpExtensionRegistry();
    const catalog = new McpCatalog({ tools, extensions, gate, skills, memory, agents });
    const endpoint = new McpHttpEndpoint({
      auth, log, now: () => clock.now(),
      createServer: () => createMcpServer(catalog, extra => extra.authInfo!.extra!.user as any),
      allowedHosts: cfg.allowedHosts,
      ownHost: () => {
        try { return new URL(kernel.baseUrl()).hostname; } catch { return undefined; }
      },
      maxSessions: cfg.maxSessions,
      sessionIdleMs: cfg.sessionIdleMs,
    });
    onDispose(() => endpoint.closeAll());
    onDispose(timers.setInterval(() => endpoint.closeIdle(), 60_000));

    // A reload swaps many tools at once: tell clients once, after the burst.
    let pending: (() => void) | undefined;
    const notify = (send: (s: ReturnType<typeof createMcpServer>) => Promise<void>) => {
      pending?.();
      pending = timers.setTimeout(() => { pending = undefined; endpoint.broadcast(send); }, 20);
    };
    onDispose(() => pending?.());
    onDispose(tools.onChange(() => notify(s => s.sendToolListChanged())));
    onDispose(extensions.onChange(kind => notify(s => kind === 'prompts' ? s.sendPromptListChanged()
      : kind === 'resources' ? s.sendResourceListChanged() : s.sendToolListChanged())));

    const mcpRoute = { auth: 'public' as const, rawBody: true, bodyLimit: 4 * 1024 * 1024, summary: 'MCP Streamable HTTP endpoint (bearer: a Plinth token)' };
    http.post('/mcp', mcpRoute, req => endpoint.handle(req));
    http.get('/mcp', mcpRoute, req => endpoint.handle(req));
    http.delete('/mcp', mcpRoute, req => endpoint.handle(req));

    const pool = new McpClientPool({
      servers: cfg.mcpServers, tools, log, timers,
      connectTimeoutMs: cfg.connectTimeoutMs, callTimeoutMs: cfg.callTimeoutMs,
    });
    pool.start();
    onDispose(() => pool.stop());
    http.get('/api/runtime/mcp', { auth: 'admin', summary: 'MCP clients: state, tools, last error' }, () => ({ items: pool.list(), nextCursor: null }));
    http.post('/api/runtime/mcp/clients/:name/discover', { auth: 'admin', params: ClientNameParams, summary: 'Reconnect if needed and list the server\'s tools again' },
      req => pool.discover(req.params.name));
    http.post('/api/runtime/mcp/clients/:name/disconnect', { auth: 'admin', params: ClientNameParams, summary: 'Disconnect and stop reconnecting until discover' },
      req => pool.disconnect(req.params.name));

    return { [mcpExtensionsRef.id]: extensions };
  },
});
