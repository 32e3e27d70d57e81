import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ToolPolicyService } from 'plinth/sdk';

/** An MCP SDK client on a kernel's /mcp with a Plinth token. */
export async function connectMcp(baseUrl: string, token: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', baseUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** Approves `toolbox.danger` only when the text says "yes"; blocks `toolbox.secret` for non-admins. */
export const testGate: ToolPolicyService = {
  riskFor: (tool, declared, user) => (tool === 'toolbox.secret' && user.role !== 'admin' ? 'blocked' : declared),
  request: async ({ input }) => ((input as { text?: string }).text === 'yes' ? { approved: true } : { approved: false, reason: 'the reviewer said no' }),
};
