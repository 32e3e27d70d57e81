/**
 * MCP `tools/call` of a no-op tool over Streamable HTTP, 50 concurrent clients (one session each),
 * against Plinth's /mcp and, in the same run, against a bare SDK McpServer with the same
 * session handling on node:http. Prints one JSON line: calls/s, p50/p99 (ms) and the ratio.
 */
import http from 'node:http';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createTestKernel } from '../testing';

const CLIENTS = 50;
const DURATION_MS = Number(process.env.BENCH_MS ?? 8000);

async function bareServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    const id = req.headers['mcp-session-id'] as string | undefined;
    let transport = id ? sessions.get(id) : undefined;
    if (!transport && isInitializeRequest(body)) {
      const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: sid => { sessions.set(sid, t); } });
      const mcp = new McpServer({ name: 'bare', version: '1.0.0' });
      mcp.registerTool('noop', { description: 'Does nothing', inputSchema: {} }, async () => ({ content: [{ type: 'text', text: 'ok' }] }));
      await mcp.connect(t);
      transport = t;
    }
    if (!transport) { res.writeHead(404).end(); return; }
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as any).port}/mcp`, close: () => new Promise(r => { server.closeAllConnections(); server.close(() => r()); }) };
}

async function load(url: string, tool: string, token?: string): Promise<{ callsPerSec: number; p50: number; p99: number; errors: number }> {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, async () => {
    const client = new Client({ name: 'bench', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : {}));
    return client;
  }));
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + DURATION_MS;
  await Promise.all(clients.map(async c => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try { await c.callTool({ name: tool, arguments: {} }); latencies.push(performance.now() - t0); } catch { errors++; }
    }
  }));
  const elapsed = performance.now() - start;
  await Promise.all(clients.map(c => c.close()));
  latencies.sort((a, b) => a - b);
  const q = (p: number) => +latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(2);
  return { callsPerSec: Math.round(latencies.length / (elapsed / 1000)), p50: q(0.5), p99: q(0.99), errors };
}

async function main(): Promise<void> {
  const kernel = await createTestKernel({ plugins: [{ path: join(__dirname, '../plugins/mcp') }, { path: join(__dirname, '../plugins/mcp/test/fixtures/toolbox') }] });
  const bare = await bareServer();
  try {
    process.stderr.write('warm-up\n');
    await load(`${kernel.baseUrl}/mcp`, 'toolbox.noop', kernel.adminToken);
    await load(bare.url, 'noop');
    process.stderr.write('plinth\n');
    const plinth = await load(`${kernel.baseUrl}/mcp`, 'toolbox.noop', kernel.adminToken);
    process.stderr.write('bare sdk\n');
    const sdk = await load(bare.url, 'noop');
    process.stdout.write(JSON.stringify({ clients: CLIENTS, durationMs: DURATION_MS, plinth, bareSdk: sdk, ratio: +(plinth.callsPerSec / sdk.callsPerSec).toFixed(2), goal: 0.8 }) + '\n');
  } finally {
    await bare.close();
    await kernel.stop();
  }
}

main().then(() => process.exit(0), err => { console.error(err); process.exit(1); });
