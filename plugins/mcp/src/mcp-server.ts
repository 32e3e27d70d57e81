import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema, CompleteRequestSchema, CreateMessageResultSchema, ElicitResultSchema, ErrorCode,
  GetPromptRequestSchema, ListPromptsRequestSchema, ListResourcesRequestSchema, ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema, McpError, ReadResourceRequestSchema, SubscribeRequestSchema, UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { ToolCaller, User } from 'plinth/sdk';
import { McpCatalog, McpLookupError } from './mcp-catalog';

export const SERVER_INFO = { name: 'plinth', version: '1.0.0' };

/** Resolves the user of the request being handled (per request, so a revoked token stops at once). */
export type UserOf = (extra: { authInfo?: { extra?: Record<string, unknown> } }) => User;

/**
 * One SDK `Server` per MCP session (the SDK binds a server to one transport), answering from the
 * shared catalog for the session's user.
 */
export function createMcpServer(catalog: McpCatalog, userOf: UserOf): Server {
  const server = new Server(SERVER_INFO, {
    capabilities: {
      tools: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      prompts: { listChanged: true },
      logging: {},
      completions: {},
    },
  });
  const lookup = async <T>(fn: () => Promise<T> | T): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof McpLookupError) throw new McpError(ErrorCode.InvalidParams, err.message);
      throw err;
    }
  };

  server.setRequestHandler(ListToolsRequestSchema, async (_req, extra) => ({ tools: catalog.listTools(userOf(extra)) as any }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const progressToken = req.params._meta?.progressToken;
    const caller: ToolCaller = {
      log: (level, data) => extra.sendNotification({ method: 'notifications/message', params: { level, data } }),
      progress: async (progress, total, message) => {
        if (progressToken === undefined) return;
        await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, total, message } });
      },
      request: async (method, params) => {
        const schema = method === 'sampling/createMessage' ? CreateMessageResultSchema : method === 'elicitation/create' ? ElicitResultSchema : undefined;
        if (!schema) throw new Error(`requests of method ${method} cannot be sent to an MCP client`);
        return extra.sendRequest({ method, params } as any, schema as any);
      },
    };
    return lookup(() => catalog.callTool(req.params.name, req.params.arguments, userOf(extra), caller, extra.signal)) as any;
  });
  server.setRequestHandler(ListResourcesRequestSchema, async (_req, extra) => ({ resources: await catalog.listResources(userOf(extra)) as any }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: catalog.listResourceTemplates() as any }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req, extra) => ({ contents: await lookup(() => catalog.readResource(req.params.uri, userOf(extra))) as any }));
  // Subscriptions are accepted; contributed resources are static today, so no update is ever due.
  server.setRequestHandler(SubscribeRequestSchema, async () => ({}));
  server.setRequestHandler(UnsubscribeRequestSchema, async () => ({}));
  server.setRequestHandler(ListPromptsRequestSchema, async (_req, extra) => ({ prompts: await catalog.listPrompts(userOf(extra)) as any }));
  server.setRequestHandler(GetPromptRequestSchema, async (req, extra) => lookup(() => catalog.getPrompt(req.params.name, req.params.arguments ?? {}, userOf(extra))) as any);
  server.setRequestHandler(CompleteRequestSchema, async req => {
    const values = await catalog.complete(req.params.ref as any, req.params.argument);
    return { completion: { values, total: values.length, hasMore: false } };
  });
  return server;
}
