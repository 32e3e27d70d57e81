import 'reflect-metadata';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import websockify from 'koa-websocket';
import { container as rootContainer } from 'tsyringe';
import { PlinthError, accountsRef, clusterLinkRef, clusterRef, egressRef, kernelStatsRef, metricsRef, newId, originAllowed, requestObserverRef, sandboxRef, toolPolicyRef, type ClusterLink, type ClusterService, type RequestObserver, type ToolPolicyService, type Clock, type KernelInfo, type Logger, type ServiceFactory } from '../sdk';
import { AuthStore } from './auth/auth-store';
import { KernelEventBus } from './events';
import type { AuthChange } from './auth/auth-store';
import { kernelStats } from './kernel-stats';
import { inServerSpan } from './http/server-span';
import { PluginMetrics } from './plugin-metrics';
import { PluginFaults } from './faults';
import { writeError } from './http/error-writer';
import { RouteGroup, type RouteEnv } from './http/routes';
import { RouteTable } from './http/route-table';
import type { NodeSseStream } from './http/sse';
import { PerUserCap } from './http/user-caps';
import { WsTable, WsTickets, verifyUpgrade } from './http/websocket';
import { wsDispatch } from './http/ws-dispatch';
import { KernelConfigUpdate } from './kernel-config-update';
import { registerKernelRoutes } from './kernel-routes';
import { LogSink, createLogger } from './log';
import { coreServiceFactories } from './plugins/core-services';
import type { Generation } from './plugins/generation';
import { PluginHost } from './plugins/plugin-host';
import { registerPluginRoutes } from './plugins/plugin-routes';
import { ServiceRegistry } from './plugins/service-registry';
import { RegistryFile } from './plugins/registry-file';
import { watchPlugins } from './plugins/watcher';
import { Admission } from './http/admission';
import { EgressPolicy, parseEgressAllow, type EgressLookup } from './egress/egress-policy';
import { KernelSandbox, defaultHidden } from './sandbox/kernel-sandbox';
import { isLoopback, type KernelSettings } from './process-settings';
import { databaseSettings, openDataSource, pluginDatabase, runMigrations } from './storage/database';
import { kernelMigrations } from './storage/kernel-schema';
import { KernelToolRegistry } from './tools';
import { KERNEL_VERSION } from './version';

export const KERNEL_CLAIMS = ['/api/health', '/api/openapi.json', '/api/plugins', '/api/tools', '/api/config', '/api/logs'];

export interface KernelOptions {
  settings: KernelSettings;
  clock?: Clock;
  /** Services that exist before any plugin starts, by ref id (the test kernel's mocks); root-scoped. */
  presetServices?: Record<string, unknown>;
  /** Factories that replace the kernel's (or add services), by ref, in either scope. */
  serviceFactories?: ServiceFactory[];
  /**
   * What an uncaught error of the kernel itself does: `exit` (the `plinth start` process) or
   * `observe` (only logged: an in-process test kernel must not end the test runner). Errors
   * tied to a plugin mark that plugin `error` either way.
   */
  onKernelFault?: 'exit' | 'observe';
  /** How the egress service resolves host names (tests: a fixed map; there is no DNS to rely on). */
  egressLookup?: EgressLookup;
}

/**
 * The cluster as plugins see it (sdk/cluster.ts): this node, and where the live others are, as
 * the cluster plugin's link knows them; without one this kernel is a cluster of one.
 */
function clusterService(nodeId: string, selfUrl: () => string, link: () => ClusterLink | undefined): ClusterService {
  const url = () => { try { return selfUrl(); } catch { return null; } }; // plugins are set up before the server listens
  const live = async () => (await link()?.liveNodes()) ?? [{ id: nodeId, url: url() }];
  return {
    nodeId,
    nodeUrl: async id => (await live()).find(n => n.id === id)?.url ?? undefined,
    liveNodes: async () => (await live()).map(n => n.id),
  };
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
  faults!: PluginFaults;
  sandbox!: KernelSandbox;
  /** This process among the kernels on one database (plugins/cluster records it; `X-Plinth-Node` names it). */
  readonly nodeId = newId('node');
  /** Told as each request ends, when a plugin implements `core.requestObserver` (plugins/observability). */
  private requestObserver: RequestObserver | undefined;
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

    const clock = this.options.clock ?? { now: () => Date.now() };
    const tickets = new WsTickets(clock);
    this.auth = new AuthStore(kernelDb, s.trustProxy, tickets);
    const boot = await this.auth.bootstrapAdmin(s.dataDir, s.adminToken);
    this.generatedAdminTokenFile = boot.generatedTokenFile;
    if (boot.generatedTokenFile) this.log.info('generated an admin token', { file: boot.generatedTokenFile });

    this.bus = new KernelEventBus(kernelDb, this.log);
    // Revocations and user changes drop cached tokens on every kernel (the bus crosses kernels).
    this.auth.onChange = change => { this.bus.publish('kernel.auth.changed', change, { audience: 'internal' }).catch(err => this.log.error('announcing an auth change failed', { err })); };
    this.closers.push(this.bus.subscribe<AuthChange>('kernel.auth.changed', e => this.auth.forget(e.payload)));
    this.faults = new PluginFaults({ log: this.log, bus: this.bus, plugins: () => this.host?.plugins.values() ?? [], onKernelFault: this.options.onKernelFault ?? 'observe' });
    this.faults.install();
    this.closers.push(() => this.faults.uninstall());
    // Per-user connection caps count the other kernels' connections through the cluster link, if any.
    const capLink = (kind: 'sse' | 'ws') => ({
      elsewhere: (userId: string) => this.bus.cluster?.connectionsElsewhere(kind, userId) ?? 0,
      changed: (userId: string, n: number) => this.bus.cluster?.connectionsChanged(kind, userId, n),
    });
    const routeTable = new RouteTable();
    const wsTable = new WsTable();
    const routeEnv: RouteEnv = {
      auth: this.auth,
      bodyLimit: s.bodyLimit,
      onSseOpen: st => this.sseStreams.add(st),
      onSseClose: st => this.sseStreams.delete(st),
      ssePerUser: new PerUserCap('SSE streams', () => this.settings.maxSsePerUser, capLink('sse')),
    };
    const kernelInfo: KernelInfo = { version: KERNEL_VERSION, dataDir: s.dataDir, baseUrl: () => this.baseUrl, dialect: dbSettings.dialect, nodeId: this.nodeId };

    parseEgressAllow(s.egressAllow); // a bad entry stops the start with its reason, not the first request
    const egress = new EgressPolicy({ allow: () => this.settings.egressAllow, lookup: this.options.egressLookup });
    this.closers.push(() => egress.close());
    this.sandbox = new KernelSandbox({ hidden: defaultHidden(s.dataDir), bwrapPath: s.sandboxBwrap });
    this.closers.push(() => this.sandbox.close());
    // Gated tools ask the approvals gate through the registry, at call time.
    this.tools = new KernelToolRegistry(id => services.get(id));
    // The one service registry: the kernel's services, then a test kernel's stand-ins, by ref id.
    const pluginMetrics = new PluginMetrics();
    const services = new ServiceRegistry<Generation>(rootContainer.createChildContainer(), [
      ...coreServiceFactories({ kernel: kernelInfo, clock, auth: this.auth, bus: this.bus, tools: this.tools, database: dbSettings, toolPolicy: (): ToolPolicyService | undefined => services.implementation(toolPolicyRef.id) }),
      { service: accountsRef, scope: 'root' as const, factory: () => this.auth },
      { service: egressRef, scope: 'root' as const, factory: () => egress },
      { service: sandboxRef, scope: 'root' as const, factory: () => this.sandbox },
      { service: kernelStatsRef, scope: 'root' as const, factory: () => kernelStats(this.bus, () => this.host.plugins.values(), kernelDs, pluginMetrics) },
      { service: metricsRef, scope: 'plugin' as const, factory: (gen: Generation) => pluginMetrics.forGeneration(gen) },
      { service: clusterRef, scope: 'root' as const, factory: (): ClusterService => clusterService(this.nodeId, () => this.baseUrl, (): ClusterLink | undefined => services.implementation(clusterLinkRef.id)) },
      ...Object.entries(this.options.presetServices ?? {}).map(([id, impl]) => ({ service: { id }, scope: 'root' as const, factory: () => impl })),
      ...(this.options.serviceFactories ?? []),
    ], (id, impl) => {
      // Kernel-owned services that plugins implement and the kernel calls on hot paths: held, not looked up.
      if (id === clusterLinkRef.id) this.bus.useCluster(impl as ClusterLink | undefined);
      if (id === requestObserverRef.id) this.requestObserver = impl as RequestObserver | undefined;
    });
    this.host = new PluginHost({
      registry: new RegistryFile(s.registryPath), services, routeTable, wsTable, tools: this.tools, routeEnv, bus: this.bus,
      logSink: this.logs, log: this.log, dataDir: s.dataDir, drainTimeoutMs: s.drainTimeoutMs, setupTimeoutMs: s.setupTimeoutMs,
      faults: this.faults, sandbox: this.sandbox, database: dbSettings,
    });

    const kernelRoutes = new RouteGroup('kernel', 0, routeEnv);
    routeTable.setClaims('kernel', KERNEL_CLAIMS);
    const configUpdate = new KernelConfigUpdate(s, this.host, this.tools, this.logs, dbSettings.dialect);
    registerKernelRoutes(kernelRoutes, { tools: this.tools, routeTable, logs: this.logs, config: configUpdate, startedAt: this.startedAt });
    registerPluginRoutes(kernelRoutes, { host: this.host, tools: this.tools });
    routeTable.setGroup('kernel', kernelRoutes);

    const admission = new Admission(s);
    const app = websockify(new Koa(), {
      verifyClient: verifyUpgrade({
        auth: this.auth, tickets, table: wsTable, bus: this.bus, perUser: new PerUserCap('WebSockets', () => this.settings.maxWsPerUser, capLink('ws')),
        allowedOrigin: (origin, host) => originAllowed(origin, host, isLoopback),
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
    app.use(ctx => inServerSpan(ctx.method, ctx.headers, async span => {
      const observer = this.requestObserver;
      const started = observer ? performance.now() : 0;
      try {
        const refused = admission.checkRequest(ctx.req);
        if (refused) throw refused;
        // Set on the Node response itself: Koa's ctx.set adds only checks that cannot fail here.
        ctx.res.setHeader('x-content-type-options', 'nosniff');
        // Which kernel answered, for operators behind a balancer (and the cluster tests).
        ctx.res.setHeader('x-plinth-node', this.nodeId);
        await routeTable.dispatch(ctx, () => notFound(ctx));
      } catch (err) {
        writeError(ctx, err, this.log);
      }
      // The route's template (bounded label set), not the path; an unmatched path is one label.
      const route: string = ctx.state.route ?? 'unmatched';
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      if (span.isRecording()) span.setAttributes({ 'http.request.method': ctx.method, 'http.route': route, 'http.response.status_code': status });
      observer?.requestEnded(ctx.method, route, status, (performance.now() - started) / 1000);
    }));
    app.ws.use(wsDispatch({ table: wsTable, bus: this.bus, log: this.log }) as any);

    await this.host.startAll();

    await new Promise<void>((resolve, reject) => {
      this.server = app.listen(s.port, s.host, () => resolve());
      this.server.once('error', reject);
    });
    this.wsServer = (app.ws as any).server;
    // Plugins were set up before the server listened; some record the URL (plugins/cluster).
    await this.bus.publish('kernel.listening', { url: this.baseUrl, nodeId: this.nodeId }, { audience: 'internal' });
    this.server!.keepAliveTimeout = 5000;
    if (s.watch) {
      const watcher = await watchPlugins(this.host, this.log);
      this.closers.unshift(() => watcher.close());
    }
    this.log.info('kernel started', { url: this.baseUrl, plugins: [...this.host.plugins.values()].map(p => `${p.id}:${p.status}`) });
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
