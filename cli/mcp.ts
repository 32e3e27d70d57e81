import { Kernel } from '../core/kernel';
import { settingsFromEnv } from '../core/process-settings';

/**
 * `plinth mcp`: an in-process kernel on a free loopback port, and a transport-level bridge
 * between stdio and its `/mcp` endpoint. Bridging (rather than the kernel knowing about the mcp
 * plugin) keeps the core free of plugin code, and stdio clients get exactly what HTTP clients get.
 */
export async function mcpStdio(): Promise<number> {
  const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js');
  const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
  // stdout carries JSON-RPC only: the kernel logs go to stderr.
  const settings = { ...settingsFromEnv(), host: '127.0.0.1', port: 0, watch: false, logToStdout: false };
  const kernel = new Kernel({ settings });
  const write = kernel.logs.write.bind(kernel.logs);
  kernel.logs.write = line => { write(line); process.stderr.write(JSON.stringify(line) + '\n'); };
  await kernel.start();
  let token = process.env.PLINTH_MCP_TOKEN;
  let tokenId: string | undefined;
  if (!token) {
    const admin = (await kernel.auth.listUsers()).find(u => u.role === 'admin');
    if (!admin) throw new Error('no admin user to act as; set PLINTH_MCP_TOKEN');
    ({ token, id: tokenId } = await kernel.auth.createToken(admin.id, { name: 'mcp-stdio', expiresInMs: 24 * 3600_000 }));
  }
  const stdio = new StdioServerTransport();
  const upstream = new StreamableHTTPClientTransport(new URL('/mcp', kernel.baseUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await upstream.terminateSession?.().catch(() => undefined);
    await upstream.close().catch(() => undefined);
    if (tokenId) await kernel.auth.revokeToken(tokenId).catch(() => undefined);
    await kernel.stop();
    process.exit(code);
  };
  stdio.onmessage = (message: unknown) => { upstream.send(message).catch((err: Error) => process.stderr.write(`mcp bridge: ${err.message}\n`)); };
  upstream.onmessage = (message: unknown) => { stdio.send(message).catch(() => undefined); };
  upstream.onerror = (err: Error) => process.stderr.write(`mcp bridge: ${err.message}\n`);
  stdio.onclose = () => { void stop(0); };
  process.stdin.on('end', () => { void stop(0); });
  process.on('SIGTERM', () => { void stop(0); });
  process.on('SIGINT', () => { void stop(0); });
  await upstream.start();
  await stdio.start();
  return new Promise<number>(() => { /* runs until stdin closes or a signal */ });
}
