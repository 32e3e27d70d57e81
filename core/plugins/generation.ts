import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import {
  PlinthError, coreServices,
  type AnyServiceRef, type Disposer, type Logger, type PluginContext, type PluginScope, type ServiceRef,
} from '../../sdk';
import { RouteGroup, type RouteEnv } from '../http/routes';
import type { PluginFaults } from '../faults';
import type { WsEndpoint } from '../http/websocket';
import { ToolSet } from '../tools';
import type { PluginManifest } from './manifest';
import { PLUGIN_IMPLEMENTED_SERVICES, type ServiceRegistry } from './service-registry';

export interface GenerationEnv {
  routeEnv: RouteEnv;
  services: ServiceRegistry<Generation>;
  dataDir: string;
  /** Marks the plugin `error` when one of its callbacks fails. */
  faults: PluginFaults;
}

/**
 * One loaded version of a plugin with its own scoped services. Everything it registers is
 * held here until `commit()`, so a failed setup leaves nothing behind, and `dispose()` removes
 * it all — the reason reload and disable can be exact.
 */
export class Generation implements PluginScope {
  readonly routes: RouteGroup;
  readonly toolSet: ToolSet;
  readonly wsEndpoints = new Map<string, WsEndpoint>();
  /** Its plugin-scoped services (made on first use) and what its setup provides. */
  readonly container: DependencyContainer;
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
    /** The refs this plugin declares in `provides`; setup must `provide` each of them. */
    readonly provides: ReadonlyArray<ServiceRef<unknown>>,
    private readonly env: GenerationEnv,
  ) {
    this.routes = new RouteGroup(pluginId, number, env.routeEnv);
    this.toolSet = new ToolSet(pluginId);
    this.container = env.services.scopeFor(this);
  }

  get generation(): number {
    return this.number;
  }

  onDispose(fn: Disposer): void {
    this.own(fn);
  }

  /** Registers a disposer; after disposal (a setup that outlived its timeout) it runs at once. */
  own(dispose: Disposer): Disposer {
    if (this.disposed) {
      void Promise.resolve().then(dispose).catch(err => this.log.warn('disposer failed', { err }));
      return dispose;
    }
    this.disposers.add(dispose);
    return dispose;
  }

  /** Runs `fn` now if committed, else at commit; either way its disposer is ours. */
  whenLive(fn: (done: () => void) => Disposer): Disposer {
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

  /** A plugin's callback that throws is logged and marks the plugin `error`; it must never take the kernel down. */
  guard(what: string, fn: (...args: any[]) => unknown): (...args: any[]) => void {
    const failed = (err: unknown) => {
      this.log.error(`${what} failed`, { err });
      this.env.faults.pluginFailed(this.pluginId, err, what);
    };
    return (...args) => {
      try {
        const r = fn(...args) as Promise<unknown> | undefined;
        if (r && typeof r.catch === 'function') r.catch(failed);
      } catch (err) {
        failed(err);
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
    // Nothing may reach this generation's services through the container once it is gone.
    this.container.reset();
  }

  /** Where a registered path lives: relative paths mount under `/api/<id>`; absolute ones must be claimed. */
  fullPath(path: string, kind: 'routes' | 'ws'): string {
    const own = `/api/${this.pluginId}`;
    if (path === own || path.startsWith(own + '/')) return path;
    const claimed = kind === 'routes' ? this.manifest.contributes.routes : this.manifest.contributes.ws;
    if (path.startsWith('/') && claimed.some(p => path === p || path.startsWith(p.endsWith('/') ? p : p + '/'))) return path;
    const rel = path === '/' || path === '' ? '' : path.startsWith('/') ? path : `/${path}`;
    return own + rel;
  }

  /** Offers a service this plugin declares in `provides`; it serves others once this generation commits. */
  provide(ref: ServiceRef<unknown>, impl: unknown): void {
    if (!ref || typeof ref.id !== 'string') throw new PlinthError(500, 'PLINTH_ERR_PROVIDES', `provide() of ${this.pluginId} needs a service ref`);
    this.checkProvidable(ref.id);
    if (!this.provides.some(p => p.id === ref.id)) throw new PlinthError(500, 'PLINTH_ERR_PROVIDES', `${this.pluginId} provides "${ref.id}" but does not list it in definePlugin({ provides })`);
    if (this.committed || this.disposed) throw new PlinthError(500, 'PLINTH_ERR_PROVIDES', `${this.pluginId} may provide "${ref.id}" only during setup`);
    if (this.container.isRegistered(ref.id)) throw new PlinthError(500, 'PLINTH_ERR_PROVIDES', `${this.pluginId} provides "${ref.id}" twice`);
    this.container.register(ref.id, { useValue: impl });
  }

  /**
   * A plugin provides only its own services (`<id>.<name>`), so none can stand in for another's;
   * a kernel-owned service (the tool policy) only when its manifest says so, and one plugin at a time.
   */
  private checkProvidable(id: string): void {
    if (id.startsWith(`${this.pluginId}.`)) return;
    if (!PLUGIN_IMPLEMENTED_SERVICES.has(id) || !this.manifest.contributes.services.includes(id)) {
      const hint = PLUGIN_IMPLEMENTED_SERVICES.has(id) ? ' (a kernel service is implemented only when plugin.json names it under contributes.services)' : '';
      throw new PlinthError(500, 'PLINTH_ERR_PROVIDES', `${this.pluginId} may only provide services named "${this.pluginId}.<name>", not "${id}"${hint}`);
    }
    const holder = this.env.services.implementer(id);
    if (holder && holder !== this.pluginId) throw new PlinthError(500, 'PLINTH_ERR_PROVIDES', `"${id}" is already provided by ${holder}; disable it first`);
  }

  /** After setup: every declared service was provided. */
  checkProvided(): void {
    for (const ref of this.provides) {
      if (!this.container.isRegistered(ref.id)) throw new PlinthError(500, 'PLINTH_ERR_PROVIDES', `${this.pluginId} declares that it provides "${ref.id}" but setup did not provide(${ref.id}, …) it`);
    }
  }

  /** Builds the setup argument: scoped services from this generation's container, then the declared deps by ref. */
  buildContext(deps: Record<string, AnyServiceRef>): PluginContext & Record<string, unknown> {
    const dataDir = join(this.env.dataDir, 'plugins', this.pluginId);
    mkdirSync(dataDir, { recursive: true });
    const secrets: Record<string, string | undefined> = {};
    for (const name of this.manifest.permissions.secrets) secrets[name] = process.env[name];
    const get = <T>(ref: ServiceRef<T>): T => this.container.resolve<T>(ref.id);
    const ctx: PluginContext & Record<string, unknown> = {
      pluginId: this.pluginId,
      generation: this.number,
      pluginDir: this.pluginDir,
      dataDir,
      secrets,
      log: get(coreServices.logger),
      config: get(coreServices.config),
      http: get(coreServices.http),
      ws: get(coreServices.ws),
      events: get(coreServices.events),
      tools: get(coreServices.tools),
      storage: get(coreServices.storage),
      auth: get(coreServices.auth),
      clock: get(coreServices.clock),
      timers: get(coreServices.timers),
      validator: get(coreServices.validator),
      kernel: get(coreServices.kernel),
      onDispose: fn => { this.own(fn); },
      provide: (ref, impl) => this.provide(ref, impl),
    };
    for (const [key, ref] of Object.entries(deps ?? {})) {
      if (!ref || typeof ref.id !== 'string') throw new PlinthError(500, 'PLINTH_ERR_DEPENDENCY', `deps.${key} of ${this.pluginId} is not a service ref`);
      const found = this.env.services.get(ref.id, this.container);
      if (found === undefined && !ref.optional) {
        throw new PlinthError(500, 'PLINTH_ERR_DEPENDENCY', `${this.pluginId} needs service "${ref.id}" (deps.${key}), and no active plugin provides it`);
      }
      ctx[key] = found;
    }
    return ctx;
  }
}
