import { PlinthError, errors, isPlinthError, type Logger, type SandboxService } from '../../sdk';
import type { KernelEventBus } from '../events';
import type { RouteEnv } from '../http/routes';
import type { RouteTable } from '../http/route-table';
import type { PluginFaults } from '../faults';
import type { WsTable } from '../http/websocket';
import type { LogSink } from '../log';
import type { KernelToolRegistry } from '../tools';
import { applyConfig } from './config-change';
import { Contributions } from './contributions';
import { dependencyOrder } from './dependency-order';
import type { Generation } from './generation';
import { GenerationLoader } from './generation-loader';
import { readManifest } from './manifest';
import { loadedContentHash } from './module-loader';
import { PluginStates, type PluginState } from './plugin-states';
import type { DatabaseSettings } from '../storage/database';
import { grantPlugin, installPackage, removePlugin, stateOrAdopt } from './plugin-grant';
import { discardPrepared, preparePackage, type PackageInput } from './package-install';
import { setEnabled } from './plugin-toggle';
import type { RegistryFile } from './registry-file';
import { ReloadTransaction } from './reload-transaction';
import type { ServiceRegistry } from './service-registry';
import { CrashHistory } from './sandboxed/sandboxed-definition';
import { bundleInputs } from './sandboxed/plugin-bundle';

export type { PluginState, PluginStatus } from './plugin-states';

export interface HostEnv {
  registry: RegistryFile;
  services: ServiceRegistry<Generation>;
  routeTable: RouteTable;
  wsTable: WsTable;
  tools: KernelToolRegistry;
  routeEnv: RouteEnv;
  bus: KernelEventBus;
  logSink: LogSink;
  log: Logger;
  dataDir: string;
  drainTimeoutMs: number;
  setupTimeoutMs: number;
  faults: PluginFaults;
  /** The kernel's process sandbox, for plugins with `isolation: "sandbox"`. */
  sandbox?: SandboxService;
  /** Where storage lives: on PostgreSQL a sandboxed plugin's storage is its own role and schema. */
  database?: DatabaseSettings;
}

/**
 * Starts, reloads, toggles, reconfigures and stops plugins, one operation at a time. The work is
 * in the modules beside it: the state machine (plugin-states), the reload transaction, the
 * generation loader, the contributions, enable/disable (plugin-toggle) and config changes.
 */
export class PluginHost {
  readonly states: PluginStates;
  readonly transaction: ReloadTransaction;
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private readonly crashes = new CrashHistory();

  constructor(readonly env: HostEnv) {
    this.states = new PluginStates(env);
    const contributions = new Contributions(env);
    const loader = new GenerationLoader({ ...env, sandboxed: {
      sandbox: env.sandbox, dataDir: env.dataDir, database: env.database, setupTimeoutMs: env.setupTimeoutMs, faults: env.faults, crashes: this.crashes,
      otherPluginIds: () => [...this.states.all.keys()],
      service: id => this.env.services.get(id),
      // A crashed process restarts as a new generation, unless an admin disabled the plugin meanwhile.
      restart: (id, reason) => { if (!this.stopped && this.states.all.get(id)?.status !== 'disabled') this.reload(id, reason).catch(() => undefined); },
    } });
    this.transaction = new ReloadTransaction({ ...env, states: this.states, loader, contributions });
  }

  get plugins(): ReadonlyMap<string, PluginState> {
    return this.states.all;
  }

  /** The state of `id`, including a plugin `plinth plugins add` put in the registry after the start (not found: 404). */
  lookup(id: string): PluginState {
    return stateOrAdopt(this, id);
  }

  /** Every plugin, including ones added to the registry since the start (listed disabled). */
  list(): PluginState[] {
    try {
      for (const e of this.env.registry.read()) if (!this.states.all.has(e.id)) stateOrAdopt(this, e.id);
    } catch { /* an unreadable registry: what is running is still listed */ }
    return [...this.states.all.values()];
  }

  /** A service by ref id, as plugins get it (the tool registry asks for `approvals.gate`). */
  service<T = unknown>(id: string): T | undefined {
    return this.env.services.get<T>(id);
  }

  /**
   * Operations run one at a time. Generations replaced during one are disposed only when it has
   * finished, so that dependents still bound to a provider's old service are restarted first.
   */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = async () => {
      try {
        return await op();
      } finally {
        this.transaction.disposeRetired();
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  startAll(): Promise<void> {
    return this.serial(async () => {
      for (const entry of this.env.registry.read()) {
        const state = this.states.add(entry, this.env.registry.resolvePath(entry));
        if (state.status === 'disabled') continue;
        try {
          state.manifest = readManifest(state.dir, entry.id);
        } catch (err) {
          this.states.failed(state, err);
        }
      }
      await this.startInOrder([...this.states.all.values()].filter(s => s.status === 'loading'));
    });
  }

  /** Starts `targets` after what they depend on; inside an operation only. */
  async startInOrder(targets: PluginState[]): Promise<void> {
    const nodes = new Map<string, { dependsOn: string[]; optionalDependsOn: string[] }>();
    for (const s of this.states.all.values()) {
      if (s.manifest && (s.status === 'active' || targets.includes(s))) nodes.set(s.id, s.manifest);
    }
    const { order, failed } = dependencyOrder(nodes);
    for (const [id, reason] of failed) {
      const s = this.states.all.get(id)!;
      if (targets.includes(s)) this.states.failed(s, new PlinthError(500, reason.startsWith('dependency cycle') ? 'PLINTH_ERR_DEPENDENCY_CYCLE' : 'PLINTH_ERR_DEPENDENCY', reason));
    }
    for (const id of order) {
      const s = this.states.all.get(id)!;
      if (targets.includes(s)) await this.transaction.run(s, { manifest: s.manifest });
    }
  }

  reload(id: string, reason = 'api'): Promise<PluginState> {
    return this.serial(async () => {
      const state = stateOrAdopt(this, id);
      if (state.status === 'disabled') throw errors.conflict(`plugin ${id} is disabled; enable it first`);
      if (reason !== 'crash') this.crashes.clear(id);
      if (await this.transaction.run(state, { reason })) await this.restartDependents(id);
      return state;
    });
  }

  /** Plugins that depend on `id` get a new generation with its new service; inside an operation only. */
  async restartDependents(id: string): Promise<void> {
    for (const s of this.states.dependentsOf(id)) await this.transaction.run(s, { reason: `dependency ${id} changed`, onFailure: 'stop' });
  }

  setEnabled(id: string, enabled: boolean): Promise<PluginState> {
    return this.serial(() => { stateOrAdopt(this, id); return setEnabled(this, id, enabled); });
  }

  /** Records what the plugin's manifest asks as granted, and serves that version (see plugin-grant). */
  grant(id: string, opts: { expectedHash?: string; enable?: boolean } = {}): Promise<PluginState> {
    return this.serial(() => grantPlugin(this, id, opts));
  }

  /**
   * Installs or upgrades a plugin package (`plinth plugins add` over HTTP). The fetch, unpack and
   * `npm install` run outside the operation queue, so reloads and toggles do not wait on npm.
   */
  async install(input: PackageInput) {
    const prepared = await preparePackage(input, this.env.dataDir, this.env.registry);
    return this.serial(() => installPackage(this, prepared)).finally(() => discardPrepared(prepared));
  }

  /** Removes a plugin installed as a package: out of service, out of the registry, off the disk. */
  remove(id: string): Promise<{ id: string; removed: string }> {
    return this.serial(() => removePlugin(this, id));
  }

  setConfig(id: string, config: Record<string, unknown>): Promise<PluginState> {
    return this.serial(() => applyConfig(this, id, config));
  }

  /**
   * Marks a plugin `error` from outside (a fault policy): it stops serving, and what requires it
   * stops too (what only optionally uses it restarts without it). Enabling or reloading it
   * starts it again.
   */
  fail(id: string, reason: string | Error): Promise<PluginState> {
    return this.serial(async () => {
      const state = this.states.require(id);
      if (state.status === 'disabled') return state;
      this.transaction.stop(state);
      this.states.failed(state, isPlinthError(reason) ? reason : new PlinthError(500, 'PLINTH_ERR_PLUGIN_FAULT', typeof reason === 'string' ? reason : reason.message));
      await this.restartDependents(id);
      return state;
    });
  }

  /** Whether a changed file matters: the hash of what the plugin loaded (and its manifest). */
  hasChanged(id: string): boolean {
    const s = this.states.all.get(id);
    if (!s || s.status === 'disabled') return false;
    if (s.status === 'error') return true;
    return loadedContentHash(s.dir, s.entry.isolation === 'sandbox' ? bundleInputs(this.env.dataDir, s.id, s.dir) : []) !== s.contentHash;
  }

  stopAll(): Promise<void> {
    return this.serial(async () => {
      if (this.stopped) return;
      this.stopped = true;
      const serving = [...this.states.all.values()].filter(s => s.active);
      const { order } = dependencyOrder(new Map(serving.map(s => [s.id, s.manifest!] as const)));
      for (const id of order.reverse()) {
        const s = this.states.all.get(id)!;
        const gen = this.transaction.stop(s);
        this.states.disabled(s);
        await gen?.dispose();
      }
      await this.transaction.settled();
    });
  }
}
