import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PlinthError, egressErrorIn, errors, sandboxUnavailable, type Clock, type Disposer, type EgressService, type Logger, type SandboxService, type SandboxedCommand, type Timers, type ToolRegistry, type ToolRisk } from 'plinth/sdk';
import { errorCodes } from './errors';

export interface McpServerConfig {
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  url?: string;
  headers?: Record<string, string>;
  enabled?: boolean;
  risk?: ToolRisk;
  toolRisk?: Record<string, ToolRisk>;
  /** A stdio server runs in the kernel's process sandbox unless an admin sets false. */
  sandbox?: boolean;
  /** Inside the sandbox: folders it may write besides its own (`<data>/servers/<name>`), folders it may read, hosts it may reach. */
  writable?: string[];
  readable?: string[];
  allowedHosts?: string[];
}

export type McpClientState = 'connecting' | 'connected' | 'disconnected' | 'error' | 'disabled';

export interface McpClientStatus {
  name: string;
  transport: 'stdio' | 'http';
  state: McpClientState;
  tools: string[];
  lastError: string | null;
  attempts: number;
  nextRetryAt: string | null;
}

interface ClientEntry {
  name: string;
  config: McpServerConfig;
  state: McpClientState;
  tools: string[];
  toolDisposers: Disposer[];
  lastError: string | null;
  attempts: number;
  client?: Client;
  /** Bumped on every (re)connect, so callbacks of an abandoned connection are ignored. */
  epoch: number;
  retry?: Disposer;
  nextRetryAt: number | null;
  /** Set by `disconnect`: no automatic reconnect until `discover`. */
  held: boolean;
  /** The sandbox's hold on the current stdio child (its network list). */
  sandboxed?: SandboxedCommand;
}

export interface McpClientPoolOptions {
  servers: Record<string, McpServerConfig>;
  tools: ToolRegistry;
  /** Remote (HTTP) servers are reached through the kernel's egress policy, like any request made for users. */
  egress: EgressService;
  log: Logger;
  clock: Clock;
  timers: Timers;
  connectTimeoutMs: number;
  callTimeoutMs: number;
  /** The kernel's process sandbox, and the folder under which each stdio server gets its own. */
  sandbox?: SandboxService;
  dataDir: string;
  /** Backoff bounds for reconnects. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * The configured MCP servers this kernel is a client of. Connections happen in the background
 * (setup never waits on a remote server), every step has a timeout, and a server that hangs,
 * crashes or answers garbage ends in state `error` with the reason and a reconnect with backoff.
 * Its tools join the registry as `mcp.<server>.<tool>` only while it is connected.
 */
export class McpClientPool {
  private readonly entries = new Map<string, ClientEntry>();
  private stopped = false;

  constructor(private readonly o: McpClientPoolOptions) {
    for (const [name, config] of Object.entries(o.servers)) {
      this.entries.set(name, {
        name, config, state: config.enabled === false ? 'disabled' : 'disconnected', tools: [], toolDisposers: [],
        lastError: null, attempts: 0, epoch: 0, nextRetryAt: null, held: false,
      });
    }
  }

  start(): void {
    for (const e of this.entries.values()) if (e.state !== 'disabled') void this.connect(e);
  }

  list(): McpClientStatus[] {
    return [...this.entries.values()].map(e => this.status(e));
  }

  async discover(name: string): Promise<McpClientStatus> {
    const e = this.entry(name);
    if (e.state === 'disabled') throw errors.conflict(`MCP server ${name} is disabled in the config`);
    e.held = false;
    if (e.state === 'connected' && e.client) {
      try {
        await this.refreshTools(e, e.epoch);
      } catch (err) {
        this.fail(e, e.epoch, err);
      }
    } else {
      await this.connect(e);
    }
    return this.status(e);
  }

  async disconnect(name: string): Promise<McpClientStatus> {
    const e = this.entry(name);
    e.held = true;
    await this.drop(e);
    if (e.state !== 'disabled') e.state = 'disconnected';
    return this.status(e);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.entries.values()].map(e => this.drop(e)));
  }

  private entry(name: string): ClientEntry {
    const e = this.entries.get(name);
    if (!e) throw errors.notFound(`MCP client ${name}`);
    return e;
  }

  private status(e: ClientEntry): McpClientStatus {
    return {
      name: e.name, transport: e.config.url ? 'http' : 'stdio', state: e.state, tools: [...e.tools],
      lastError: e.lastError, attempts: e.attempts, nextRetryAt: e.nextRetryAt ? new Date(e.nextRetryAt).toISOString() : null,
    };
  }

  private async connect(e: ClientEntry): Promise<void> {
    await this.drop(e);
    if (this.stopped) return;
    const epoch = ++e.epoch;
    e.state = 'connecting';
    e.attempts++;
    const client = new Client({ name: 'plinth', version: '1.0.0' }, { capabilities: {} });
    e.client = client;
    client.onclose = () => {
      // While connecting, the SDK closes on a failed initialize before connect() rejects: keep that reason.
      if (epoch !== e.epoch || this.stopped || e.held || e.state === 'connecting') return;
      this.fail(e, epoch, new Error('the connection closed (the server exited or hung up)'));
    };
    client.onerror = err => this.o.log.debug('MCP client transport error', { server: e.name, error: String(err) });
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      if (epoch === e.epoch) await this.refreshTools(e, epoch).catch(err => this.fail(e, epoch, err));
    });
    try {
      await withTimeout(client.connect(await this.transport(e)), this.o.connectTimeoutMs, `connecting to MCP server ${e.name}`);
      await this.refreshTools(e, epoch);
      if (epoch !== e.epoch) return;
      e.state = 'connected';
      e.attempts = 0;
      e.lastError = null;
      this.o.log.info('MCP server connected', { server: e.name, tools: e.tools.length });
    } catch (err) {
      this.fail(e, epoch, err);
    }
  }

  private async transport(e: ClientEntry): Promise<Transport> {
    const config = e.config;
    if (config.url) {
      // No idle bound: the server's event stream may stay quiet for long; each step has its own timeout here.
      const fetch = this.o.egress.fetcher({ timeoutMs: Math.max(this.o.connectTimeoutMs, this.o.callTimeoutMs), idleTimeoutMs: 0, maxBytes: 64 * 1024 * 1024 });
      return new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers: config.headers ?? {} }, fetch });
    }
    // The child gets a minimal environment plus what the config names: never the kernel's secrets.
    // The config is an admin's, but the server is still someone else's code: it runs in the sandbox
    // with its own folder, what the config lets it read and write, and the hosts it names.
    const env = { ...getDefaultEnvironment(), ...(config.env ?? {}) };
    let cmd = { file: config.command!, args: config.args ?? [], env, cwd: config.cwd };
    if (config.sandbox !== false) {
      if (!this.o.sandbox) throw sandboxUnavailable('the kernel has no sandbox service');
      const own = join(this.o.dataDir, 'servers', e.name);
      mkdirSync(own, { recursive: true });
      const cwd = config.cwd ?? own;
      const wrapped = await this.o.sandbox.wrap({
        file: cmd.file, args: cmd.args, cwd, env: { ...env, HOME: own },
        writable: [own, ...(config.writable ?? [])], readable: [cmd.file, ...(config.readable ?? [])], allowedHosts: config.allowedHosts ?? [],
      });
      e.sandboxed = wrapped;
      cmd = { file: wrapped.file, args: wrapped.args, env: wrapped.env, cwd };
    }
    return new StdioClientTransport({ command: cmd.file, args: cmd.args, cwd: cmd.cwd, env: cmd.env, stderr: 'ignore' });
  }

  private async refreshTools(e: ClientEntry, epoch: number): Promise<void> {
    const client = e.client!;
    const listed = await withTimeout(client.listTools(), this.o.connectTimeoutMs, `listing the tools of MCP server ${e.name}`);
    if (epoch !== e.epoch) return;
    this.unregister(e);
    const skipped: string[] = [];
    for (const tool of listed.tools) {
      const risk = e.config.toolRisk?.[tool.name] ?? e.config.risk ?? 'gated';
      const { $schema: _ignored, ...inputSchema } = tool.inputSchema as Record<string, unknown>;
      try {
        e.toolDisposers.push(this.o.tools.register({
          name: `${e.name}.${tool.name}`,
          description: tool.description ?? `${tool.name} (MCP server ${e.name})`,
          inputSchema,
          risk,
          run: (input, ctx) => this.callTool(e, tool.name, input, ctx.signal),
        }));
        e.tools.push(`mcp.${e.name}.${tool.name}`);
      } catch (err) {
        // One unusable tool (a schema Ajv cannot compile, a clashing name) must not hide the others.
        skipped.push(`${tool.name}: ${(err as Error).message}`);
      }
    }
    if (skipped.length) this.o.log.warn('MCP tools skipped', { server: e.name, skipped });
  }

  private async callTool(e: ClientEntry, tool: string, input: unknown, signal?: AbortSignal): Promise<unknown> {
    if (e.state !== 'connected' || !e.client) throw errors.unavailable(`MCP server ${e.name} is not connected (${e.state})`);
    const result = await e.client.callTool({ name: tool, arguments: (input ?? {}) as Record<string, unknown> }, undefined,
      { timeout: this.o.callTimeoutMs, signal }).catch(err => {
      throw errorCodes.error('PLINTH_ERR_MCP_CALL', `MCP server ${e.name} failed on ${tool}: ${(err as Error).message}`, { cause: err });
    });
    if (result.isError) {
      const text = (result.content as Array<{ type: string; text?: string }> | undefined)?.filter(c => c.type === 'text').map(c => c.text).join('\n');
      throw errorCodes.error('PLINTH_ERR_MCP_TOOL', `tool ${tool} of MCP server ${e.name} answered an error: ${text || 'no detail'}`);
    }
    return result;
  }

  private fail(e: ClientEntry, epoch: number, err: unknown): void {
    if (epoch !== e.epoch || this.stopped) return;
    // A new epoch first: closing the connection below fires its onclose, which must not fail twice.
    const mine = ++e.epoch;
    e.state = 'error';
    e.lastError = describeError(err);
    this.o.log.warn('MCP server unavailable', { server: e.name, error: e.lastError, attempts: e.attempts });
    const min = this.o.minBackoffMs ?? 1000;
    const delay = Math.min(this.o.maxBackoffMs ?? 60_000, min * 2 ** Math.min(e.attempts - 1, 16));
    const dropping = this.drop(e, false); // clears the old retry synchronously, before the next line
    e.nextRetryAt = this.o.clock.now() + delay;
    void dropping.then(() => {
      if (mine !== e.epoch || this.stopped || e.held) return;
      e.retry = this.o.timers.setTimeout(() => { e.retry = undefined; e.nextRetryAt = null; void this.connect(e); },
        Math.max(0, (e.nextRetryAt ?? this.o.clock.now()) - this.o.clock.now()));
    });
  }

  /** Unregisters the tools and closes the connection (killing a stdio child). */
  private async drop(e: ClientEntry, bump = true): Promise<void> {
    e.retry?.();
    e.retry = undefined;
    e.nextRetryAt = null;
    this.unregister(e);
    const client = e.client;
    e.client = undefined;
    if (bump) e.epoch++;
    if (client) await withTimeout(client.close(), 5000, 'closing').catch(() => undefined);
    e.sandboxed?.release();
    e.sandboxed = undefined;
  }

  private unregister(e: ClientEntry): void {
    for (const d of e.toolDisposers.splice(0)) void d();
    e.tools = [];
  }
}

function describeError(err: unknown): string {
  const egress = egressErrorIn(err);
  if (egress) return egress.message;
  const message = (err as Error)?.message ?? String(err);
  // The SDK's HTTP errors keep the status apart from a message that may be empty.
  return err instanceof StreamableHTTPError && err.code ? `${message.trim()} (HTTP ${err.code})` : message;
}

/**
 * Node's own timer, not `ctx.timers`: it bounds one awaited step and is cleared when the step ends;
 * it must also fire while the pool stops (closing), after the generation's timers are gone.
 */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
