import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import websockify from 'koa-websocket';
import { container as rootContainer } from 'tsyringe';
import { PlinthError, isPlinthError, type Clock, type KernelInfo, type Logger } from '../sdk';
import { AuthStore } from './auth/auth-store';
import { KernelEventBus } from './events';
import { RouteGroup, RouteTable, type RouteEnv } from './http/routes';
import type { NodeSseStream } from './http/sse';
import { WsTable, WsTickets, attachEventSocket, verifyUpgrade } from './http/websocket';
import { KernelConfigStore } from './kernel-config';
import { registerKernelRoutes } from './kernel-routes';
import { LogSink, createLogger } from './log';
import { PluginHost } from './plugins/plugin-host';
import { RegistryFile } from './plugins/registry-file';
import { watchPlugins } from './plugins/watcher';
import { Admission } from './http/admission';
import { KernelSandbox, defaultHidden } from './sandbox/kernel-sandbox';
import { isLoopback, type KernelSettings } from './settings';
import { databaseSettings, openDataSource, pluginDatabase, runMigrations } from './storage/database';
import { kernelMigrations } from './storage/kernel-schema';
import { KernelToolRegistry } from './tools';
import { KERNEL_VERSION } from './version';

export const KERNEL_CLAIMS = ['/api/health', '/api/openapi.json', '/api/plugins', '/api/tools', '/api/config', '/api/logs', '/api/users', '/api/tokens', '/api/ws', '/auth'];

export interface KernelOptions {
  settings: KernelSettings;
  clock?: Clock;
  /** Services that exist before any plugin starts (the test kernel's mocks). */
  presetServices?: Record<string, unknown>;
}

/**
 * Wires the kernel: root container, database, auth, event bus, tool registry, HTTP/WS and the
 * plugin host. It owns no feature of its own; everything else is a plugin.
 */
export class Kernel {
  readonly settings: KernelSettings;
  readonly logs: LogSink;
  readonly log: Logger;
  host!: PluginHost;
  auth!: AuthStore;
  bus!: KernelEventBus;
  tools!: KernelToolRegistry;
  sandbox!: KernelSandbox;
  generatedAdminTokenFile: string | undefined;
  private server: Server | undefined;
  private wsServer: { clients: Set<{ close(code: number, reason: string): void; terminate(): void }> } | undefined;
  private readonly sseStreams = new Set<NodeSseStream>();
  private closers: Array<() => Promise<void> | void> = [];
  private stopping: Promise<void> | undefined;
  private readonly startedAt = Date.now();

  constructor(private readonly options: KernelOptions) {
    this.settings = { ...options.settings };
    this.logs = new LogSink(this.settings.logLevel, this.settings.logToStdout);
    this.log = createLogger(this.logs, { plugin: 'kernel' });
  }

  get baseUrl(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('kernel is not listening');
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${addr.port}`;
  }

  async start(): Promise<void> {
    const s = this.settings;
    mkdirSync(s.dataDir, { recursive: true });
    const dbSettings = databaseSettings(s.dataDir, s.databaseUrl);
    const kernelDs = await openDataSource(dbSettings, 'kernel');
    this.closers.push(() => kernelDs.destroy());
    const kernelDb = pluginDatabase(kernelDs, dbSettings.dialect, 'kernel');
    await runMigrations(kernelDb, 'kernel', kernelMigrations);

    this.auth = new AuthStore(kernelDb);
    const boot = await this.auth.bootstrapAdmin(s.dataDir, s.adminToken);
    this.generatedAdminTokenFile = boot.generatedTokenFile;
    if (boot.generatedTokenFile) this.log.info('generated an admin token', { file: boot.generatedTokenFile });

    this.bus = new KernelEventBus(kernelDb, this.log);
    const routeTable = new RouteTable();
    const wsTable = new WsTable();
    const tickets = new WsTickets();
    const routeEnv: RouteEnv = {
      auth: this.auth,
      bodyLimit: s.bodyLimit,
      onSseOpen: st => this.sseStreams.add(st),
      onSseClose: st => this.sseStreams.delete(st),
    };
    const clock = this.options.clock ?? { now: () => Date.now() };
    const kernelInfo: KernelInfo = { version: KERNEL_VERSION, dataDir: s.dataDir, baseUrl: () => this.baseUrl, dialect: dbSettings.dialect };

    const root = rootContainer.createChildContainer();
    root.register('core.kernel', { useValue: kernelInfo });
    root.register('core.clock', { useValue: clock });
    root.register('core.auth', { useValue: this.auth });
    this.sandbox = new KernelSandbox({ hidden: defaultHidden(s.dataDir), bwrapPath: s.sandboxBwrap });
    this.closers.push(() => this.sandbox.close());
    root.register('core.sandbox', { useValue: this.sandbox });

    this.tools = new KernelToolRegistry(id => this.host.service(id));
    this.host = new PluginHost({
      registry: new RegistryFile(s.registryPath), routeTable, wsTable, root, logSink: this.logs, log: this.log,
      drainTimeoutMs: s.drainTimeoutMs, setupTimeoutMs: 30_000, presetServices: this.options.presetServices,
      routeEnv, tools: this.tools, bus: this.bus, auth: this.auth, database: dbSettings, clock, kernel: kernelInfo, dataDir: s.dataDir,
    });

    const kernelRoutes = new RouteGroup('kernel', 0, routeEnv);
    routeTable.setClaims('kernel', KERNEL_CLAIMS);
    const configStore = new KernelConfigStore(s, this.host, this.tools, this.logs, dbSettings.dialect);
    registerKernelRoutes(kernelRoutes, { host: this.host, tools: this.tools, routeTable, auth: this.auth, tickets, logs: this.logs, config: configStore, startedAt: this.startedAt, dialect: dbSettings.dialect });
    routeTable.setGroup('kernel', kernelRoutes);

    const admission = new Admission(s);
    const app = websockify(new Koa(), {
      verifyClient: verifyUpgrade({
        auth: this.auth, tickets, table: wsTable, bus: this.bus,
        allowedOrigin: (origin, host) => safeOrigin(origin, host),
        admitted: (remote, host) => admission.check(remote, host) === undefined,
      }) as any,
      maxPayload: 1024 * 1024,
    });
    app.proxy = false;
    app.silent = true;
    // One middleware for the whole request path: each Koa layer costs a promise per request.
    const notFound = async (ctx: Koa.Context) => {
      throw new PlinthError(404, 'PLINTH_ERR_NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
    };
    app.use(async ctx => {
      try {
        const refused = admission.check(ctx.req.socket.remoteAddress, ctx.get('host'));
        if (refused) throw refused;
        ctx.set('x-content-type-options', 'nosniff');
        await routeTable.dispatch(ctx, () => notFound(ctx));
      } catch (err) {
        this.writeError(ctx, err);
      }
    });
    app.ws.use(async ctx => {
      const socket = (ctx as any).websocket;
      const user = (ctx.req as any).plinthUser;
      const url = new URL(ctx.req.url ?? '/', 'http://localhost');
      if (url.pathname === '/ws') return attachEventSocket(socket, user, this.bus);
      const endpoint = wsTable.get(url.pathname);
      if (!endpoint) return socket.close(4404, 'no WebSocket endpoint here');
      endpoint.sockets.add(socket);
      socket.once('close', () => endpoint.sockets.delete(socket));
      // A plugin's handler that throws (or rejects) closes its socket, never the kernel.
      Promise.resolve()
        .then(() => endpoint.handler(socket, { user, query: Object.fromEntries(url.searchParams), headers: ctx.req.headers }))
        .catch(err => {
          this.log.error('WebSocket handler failed', { plugin: endpoint.owner, err });
          socket.close(1011, 'internal error');
        });
    });

    await this.host.startAll();

    await new Promise<void>((resolve, reject) => {
      this.server = app.listen(s.port, s.host, () => resolve());
      this.server.once('error', reject);
    });
    this.wsServer = (app.ws as any).server;
    this.server!.keepAliveTimeout = 5000;
    if (s.watch) {
      const watcher = await watchPlugins(this.host, this.log);
      this.closers.unshift(() => watcher.close());
    }
    this.log.info('kernel started', { url: this.baseUrl, plugins: [...this.host.plugins.values()].map(p => `${p.id}:${p.status}`) });
  }

  /** Every failure becomes the one JSON error body; a stack trace never reaches the client. */
  private writeError(ctx: Koa.Context, err: any): void {
    let e: PlinthError;
    if (isPlinthError(err)) e = err;
    else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) e = new PlinthError(err.status, 'PLINTH_ERR_HTTP', err.message);
    else {
      this.log.error('request failed', { method: ctx.method, path: ctx.path, err });
      e = new PlinthError(500, 'PLINTH_ERR_INTERNAL', 'internal error; the server log has the details');
    }
    if (ctx.headerSent || !ctx.writable || ctx.respond === false) {
      if (!ctx.res.writableEnded) ctx.res.end();
      return;
    }
    ctx.status = e.status;
    for (const [k, v] of Object.entries(e.headers ?? {})) ctx.set(k, v);
    ctx.body = e.toJSON();
  }

  /** Stop accepting, let requests finish (bounded), dispose plugins in reverse order, close the database. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const server = this.server;
      if (server) {
        const closed = new Promise<void>(resolve => server.close(() => resolve()));
        server.closeIdleConnections();
        for (const st of [...this.sseStreams]) st.close();
        // Upgraded sockets would keep server.close() waiting for the whole drain bound.
        for (const ws of this.wsServer?.clients ?? []) ws.close(1001, 'server shutting down');
        setTimeout(() => { for (const ws of this.wsServer?.clients ?? []) ws.terminate(); }, 1000).unref();
        const bound = new Promise<void>(resolve => setTimeout(resolve, this.settings.drainTimeoutMs).unref());
        await Promise.race([closed, bound]);
        server.closeAllConnections();
      }
      if (this.host) await this.host.stopAll();
      for (const close of this.closers.splice(0)) {
        try { await close(); } catch (err) { this.log.warn('close failed', { err }); }
      }
      this.log.info('kernel stopped');
    })();
    return this.stopping;
  }
}

function safeOrigin(origin: string, host: string | undefined): boolean {
  try {
    const u = new URL(origin);
    return u.host === host || isLoopback(u.hostname);
  } catch {
    return false;
  }
}
