import { DEVICE_SCOPE, type HttpRouter, type Logger, type WsRegistry } from 'plinth/sdk';
import { registerAgentRoutes, type AgentRouteDeps } from './agent-routes';
import { attachChatSocket } from './chat-socket';
import { registerSessionRoutes, type SessionRouteDeps } from './session-routes';
import { registerInstanceRoutes } from './instance-routes';
import type { InstanceStore } from './instance-store';
import type { Instances } from './instances';
import { registerSubagentRoutes } from './subagent-routes';
import type { SubagentStore } from './subagent-store';
import type { Subagents } from './subagents';
import { registerTurnRoutes } from './turn-routes';
import type { TurnStore } from './turn-store';
import { registerRuntimeRoutes } from './runtime-routes';
import { registerSettingsRoutes, type SettingsRouteDeps } from './settings-routes';
import type { TurnLog } from './turn-log';

export type AgentsRouteDeps = AgentRouteDeps & SessionRouteDeps & SettingsRouteDeps & { turns: TurnStore; turnLog: TurnLog; workspaceDir: string; log: Logger; subagentStore: SubagentStore; subagents: Subagents; instances: Instances; instanceStore: InstanceStore };

/**
 * Every route of the plugin, by resource: agents and providers (agent-routes.ts), sessions and
 * their messages (session-routes.ts), turns and stats (turn-routes.ts), the runtime's turn logs
 * (runtime-routes.ts), the models settings document (settings-routes.ts), and the chat socket.
 */
export function registerRoutes(http: HttpRouter, ws: WsRegistry, d: AgentsRouteDeps): void {
  registerAgentRoutes(http, d);
  registerSessionRoutes(http, d);
  registerTurnRoutes(http, d);
  registerRuntimeRoutes(http, d);
  registerSettingsRoutes(http, d);
  registerSubagentRoutes(http, d);
  registerInstanceRoutes(http, d);
  ws.handle('/api/agent/ws', { auth: 'user', scope: DEVICE_SCOPE }, (socket, info) => attachChatSocket(socket, info.user!, d.runtime, d.log,
    async () => (await d.runtime.listAgents()).find(a => a.owner === null && a.kind === 'llm')?.name));
}
