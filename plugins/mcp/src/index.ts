import { clusterRef, toolPolicyRef, definePlugin, egressRef, lazy, sandboxRef } from 'plinth/sdk';
import { agentRuntimeRef } from 'plinth/contracts/agents';
import { mcpExtensionsRef } from './contract';
import { memoryRef } from 'plinth/contracts/memory';
import { skillsRef } from 'plinth/contracts/skills';
import { McpExtensionRegistry } from './extensions';
import { McpCatalog } from './mcp-catalog';
import type { McpServerConfig } from './client-pool';
import { registerRoutes } from './routes';

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
    cluster: clusterRef,
    sandbox: sandboxRef.asOptional(),
  },
  provides: [mcpExtensionsRef],
  async setup({ egress, cluster, http, tools, auth, log, clock, timers, kernel, config, dataDir, onDispose, gate, skills, memory, agents, sandbox, provide }) {
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
        cluster,
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

    const hasServers = Object.keys(cfg.mcpServers ?? {}).length > 0;
    const pool = hasServers ? new (require('./client-pool') as typeof import('./client-pool')).McpClientPool({
      servers: cfg.mcpServers, tools, log, clock, timers, egress,
      connectTimeoutMs: cfg.connectTimeoutMs, callTimeoutMs: cfg.callTimeoutMs, sandbox, dataDir,
    }) : undefined;
    pool?.start();
    onDispose(() => pool?.stop());
    registerRoutes(http, { handle: req => endpoint().handle(req), pool });

    provide(mcpExtensionsRef, extensions);
  },
});
