import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import {
  PlinthError, coreServices,
  type AnyServiceRef, type Clock, type Disposer, type EventBus, type HttpRouter, type KernelInfo, type Logger,
  type PluginContext, type ProvidedServices, type StorageService, type Timers, type WsRegistry,
} from '../../sdk';
import type { AuthStore } from '../auth/auth-store';
import type { KernelEventBus } from '../events';
import { RouteGroup, type Method, type RouteEnv } from '../http/routes';
import type { WsEndpoint } from '../http/websocket';
import { openDataSource, pluginDatabase, pluginView, runMigrations, type DatabaseSettings } from '../storage/database';
import { ToolSet, pluginToolRegistry, type KernelToolRegistry } from '../tools';
import type { PluginManifest } from './manifest';

export interface GenerationEnv {
  routeEnv: RouteEnv;
  tools: KernelToolRegistry;
  bus: KernelEventBus;
  auth: AuthStore;
  database: DatabaseSettings;
  clock: Clock;
  kernel: KernelInfo;
  dataDir: string;
  resolveService(id: string): { impl: unknown } | undefined;
}

/**
 * One loaded version of a plugin with its own scoped services. Everything it registers is
 * held here until `commit()`, so a failed setup leaves nothing behind, and `dispose()` removes
 * it all — the reason reload and disable can be exact.
 */
export class Generation {
  readonly routes: RouteGroup;
  readonly toolSet: ToolSet;
  readonly wsEndpoints = new Map<string, WsEndpoint>();
  provided: ProvidedServices = {};
  /** How long loading the code and running setup took, for start-up diagnostics. */
  timings: { loadMs: number; setupMs: number } | undefined;
  committed = false;
  disposed = false;
  /** A Set, so that a disposer that has run (a fired timer, an unsubscribe) leaves it. */
  private readonly disposers = new Set<Disposer>();
  private readonly staged: Array<() => Disposer> = [];

  constructor(
    readonly pluginId: string,
    readonly number: number,
    readonly manifest: PluginManifest,
    readonly pluginDir: string,
    readonly config: Record<string, unknown>,
    readonly log: Logger,
    readonly container: DependencyContainer,
    private readonly env: GenerationEnv,
  ) {
    this.routes = new RouteGroup(pluginId, number, env.routeEnv);
    this.toolSet = new ToolSet(pluginId);
  }

  /** Registers a disposer; after disposal (a setup that outlived its timeout) it runs at once. */
  private own(dispose: Disposer): Disposer {
    if (this.disposed) {
      void Promise.resolve().then(dispose).catch(err => this.log.warn('disposer failed', { err }));
      return dispose;
    }
    this.disposers.add(dispose);
    return dispose;
  }

  /** Runs `fn` now if committed, else at commit; either way its disposer is ours. */
  private whenLive(fn: (done: () => void) => Disposer): Disposer {
    let dispose: Disposer | undefined;
    let cancelled = false;
    const stop: Disposer = () => {
      cancelled = true;
      this.disposers.delete(stop);
      return dispose?.();
    };
    const start = () => { if (!cancelled) dispose = fn(() => this.disposers.delete(stop)); return stop; };
    this.own(stop);
    if (this.committed) start(); else this.staged.push(start);
    return stop;
  }

  /** A plugin's callback that throws is logged; it must never take the kernel down. */
  private guard(what: string, fn: () => unknown): () => void {
    return () => {
      try {
        const r = fn() as Promise<unknown> | undefined;
        if (r && typeof r.catch === 'function') r.catch(err => this.log.error(`${what} failed`, { err }));
      } catch (err) {
        this.log.error(`${what} failed`, { err });
      }
    };
  }

  commit(): void {
    this.committed = true;
    for (const start of this.staged.splice(0)) start();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.routes.closeStreams();
    const all = [...this.disposers].reverse();
    this.disposers.clear();
    for (const d of all) {
      try { await d(); } catch (err) { this.log.warn('disposer failed', { err }); }
    }
  }

  private fullPath(path: string, kind: 'routes' | 'ws'): string {
    const own = `/api/${this.pluginId}`;
    if (path === own || path.startsWith(own + '/')) return path;
    const claimed = kind === 'routes' ? this.manifest.contributes.routes : this.manifest.contributes.ws;
    if (path.startsWith('/') && claimed.some(p => path === p || path.startsWith(p.endsWith('/') ? p : p + '/'))) return path;
    const rel = path === '/' || path === '' ? '' : path.startsWith('/') ? path : `/${path}`;
    return own + rel;
  }

  private http(): HttpRouter {
    const add = (method: Method) => (path: string, options: any, handler: any) => {
      return this.own(this.routes.add({ method, path: this.fullPath(path, 'routes'), options, handler }));
    };
    return { get: add('GET'), post: add('POST'), put: add('PUT'), patch: add('PATCH'), delete: add('DELETE') };
  }

  private ws(): WsRegistry {
    return {
      handle: (path, options, handler) => {
        const full = this.fullPath(path, 'ws');
        if (this.wsEndpoints.has(full)) throw new PlinthError(500, 'PLINTH_ERR_WS_DUPLICATE', `WebSocket ${full} is registered twice by ${this.pluginId}`);
        if (!options || !['public', 'user', 'admin'].includes(options.auth)) {
          throw new PlinthError(500, 'PLINTH_ERR_ROUTE_AUTH', `WebSocket ${full} of ${this.pluginId} must declare auth: public, user or admin`);
        }
        const sockets = new Set<import('ws').WebSocket>();
        this.wsEndpoints.set(full, { owner: this.pluginId, auth: options.auth, handler, sockets });
        return this.own(() => {
          this.wsEndpoints.delete(full);
          // Sockets must not go on talking to a disposed generation: clients reconnect to the new one.
          for (const socket of sockets) socket.close(1012, 'plugin reloaded or disabled; reconnect');
        });
      },
    };
  }

  private events(): EventBus {
    const bus = this.env.bus;
    return {
      publish: (topic, payload, options) => bus.publish(topic, payload, options),
      replay: (pattern, after, limit) => bus.replay(pattern, after, limit),
      subscribe: (pattern, handler) => this.whenLive(() => bus.subscribe(pattern, handler)),
    };
  }

  private timers(): Timers {
    return {
      setTimeout: (fn, ms) => this.whenLive(done => {
        const run = this.guard('timer', fn);
        const t = setTimeout(() => { done(); run(); }, ms);
        return () => clearTimeout(t);
      }),
      setInterval: (fn, ms) => this.whenLive(() => { const t = setInterval(this.guard('interval', fn), ms); return () => clearInterval(t); }),
    };
  }

  private storage(): StorageService {
    return {
      open: async (options = {}) => {
        const ds = await openDataSource(this.env.database, this.pluginId);
        this.own(() => ds.destroy());
        const db = pluginDatabase(ds, this.env.database.dialect, this.pluginId);
        const applied = await runMigrations(db, this.pluginId, options.migrations ?? []);
        if (applied.length) this.log.info('migrations applied', { migrations: applied });
        return pluginView(db);
      },
    };
  }

  /** Builds the setup argument: scoped services, then the declared deps resolved by ref id. */
  buildContext(deps: Record<string, AnyServiceRef>): PluginContext & Record<string, unknown> {
    const dataDir = join(this.env.dataDir, 'plugins', this.pluginId);
    mkdirSync(dataDir, { recursive: true });
    const secrets: Record<string, string | undefined> = {};
    for (const name of this.manifest.permissions.secrets) secrets[name] = process.env[name];
    const scoped = {
      [coreServices.logger.id]: this.log,
      [coreServices.config.id]: this.config,
      [coreServices.http.id]: this.http(),
      [coreServices.ws.id]: this.ws(),
      [coreServices.events.id]: this.events(),
      [coreServices.tools.id]: pluginToolRegistry(this.toolSet, this.env.tools),
      [coreServices.storage.id]: this.storage(),
      [coreServices.auth.id]: this.env.auth,
      [coreServices.clock.id]: this.env.clock,
      [coreServices.timers.id]: this.timers(),
      [coreServices.kernel.id]: this.env.kernel,
    };
    for (const [id, value] of Object.entries(scoped)) this.container.register(id, { useValue: value });

    const ctx: PluginContext & Record<string, unknown> = {
      pluginId: this.pluginId,
      generation: this.number,
      pluginDir: this.pluginDir,
      dataDir,
      log: this.log,
      config: this.config,
      secrets,
      http: this.container.resolve(coreServices.http.id),
      ws: this.container.resolve(coreServices.ws.id),
      events: this.container.resolve(coreServices.events.id),
      tools: this.container.resolve(coreServices.tools.id),
      storage: this.container.resolve(coreServices.storage.id),
      auth: this.env.auth,
      clock: this.env.clock,
      timers: this.container.resolve(coreServices.timers.id),
      kernel: this.env.kernel,
      onDispose: fn => { this.own(fn); },
    };
    for (const [key, ref] of Object.entries(deps ?? {})) {
      if (!ref || typeof ref.id !== 'string') throw new PlinthError(500, 'PLINTH_ERR_DEPENDENCY', `deps.${key} of ${this.pluginId} is not a service ref`);
      if (this.container.isRegistered(ref.id, true)) { ctx[key] = this.container.resolve(ref.id); continue; }
      const found = this.env.resolveService(ref.id);
      if (!found && !ref.optional) {
        throw new PlinthError(500, 'PLINTH_ERR_DEPENDENCY', `${this.pluginId} needs service "${ref.id}" (deps.${key}), and no active plugin provides it; add its provider to the registry and to dependsOn`);
      }
      ctx[key] = found?.impl;
      if (found) this.container.register(ref.id, { useValue: found.impl });
    }
    return ctx;
  }
}
