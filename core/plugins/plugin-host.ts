import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import { PlinthError, errors, isPluginDefinition, isPlinthError, toolPolicyRef, type Logger, type PluginDefinition } from '../../sdk';
import type { LogSink } from '../log';
import { createLogger } from '../log';
import type { RouteTable } from '../http/routes';
import type { WsTable } from '../http/websocket';
import { compileSchema, describeErrors } from '../validation';
import { dependencyOrder } from './dependency-order';
import { Generation, type GenerationEnv } from './generation';
import { readManifest, type PluginManifest } from './manifest';
import { loadFresh, loadedFilesUnder, purgeModulesUnder } from './module-loader';
import type { RegistryEntry, RegistryFile } from './registry-file';

/** Kernel-owned services a plugin may implement (see `contributes.services` in the manifest). */
const PLUGIN_IMPLEMENTED = new Set([toolPolicyRef.id]);

export type PluginStatus = 'active' | 'disabled' | 'error' | 'loading';

export interface PluginState {
  id: string;
  entry: RegistryEntry;
  dir: string;
  manifest?: PluginManifest;
  status: PluginStatus;
  error?: { code: string; message: string; at: string };
  active?: Generation;
  generations: number;
  contentHash?: string;
  lastReload?: { at: string; ok: boolean; ms: number };
}

export interface HostEnv extends Omit<GenerationEnv, 'resolveService'> {
  registry: RegistryFile;
  routeTable: RouteTable;
  wsTable: WsTable;
  root: DependencyContainer;
  logSink: LogSink;
  log: Logger;
  drainTimeoutMs: number;
  setupTimeoutMs: number;
  /** Services provided before any plugin (the test kernel's mocks). */
  presetServices?: Record<string, unknown>;
}

/**
 * Loads, starts, reloads, toggles and stops plugins. Every operation runs one at a time, and a
 * reload is a transaction: the new generation is set up beside the old one and swapped in only
 * when its setup succeeded; otherwise the old one keeps serving.
 */
export class PluginHost {
  readonly plugins = new Map<string, PluginState>();
  private readonly services = new Map<string, { pluginId: string; impl: unknown }>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly disposing = new Set<Promise<void>>();
  private readonly retiring: Generation[] = [];
  private stopped = false;

  constructor(private readonly env: HostEnv) {
    for (const [id, impl] of Object.entries(env.presetServices ?? {})) this.services.set(id, { pluginId: 'preset', impl });
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
        for (const gen of this.retiring.splice(0)) this.dispose(gen);
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  service(id: string): unknown {
    return this.services.get(id)?.impl;
  }

  private generationEnv(): GenerationEnv {
    return {
      ...this.env,
      resolveService: id => this.services.get(id),
    };
  }

  // ------------------------------------------------------------------ start

  startAll(): Promise<void> {
    return this.serial(async () => {
      const entries = this.env.registry.read();
      for (const entry of entries) {
        const state: PluginState = { id: entry.id, entry, dir: this.env.registry.resolvePath(entry), status: entry.enabled === false ? 'disabled' : 'loading', generations: 0 };
        this.plugins.set(entry.id, state);
        if (state.status === 'disabled') continue;
        try {
          state.manifest = readManifest(state.dir, entry.id);
        } catch (err) {
          this.fail(state, err);
        }
      }
      await this.startInOrder([...this.plugins.values()].filter(s => s.status === 'loading'));
    });
  }

  private async startInOrder(states: PluginState[]): Promise<void> {
    const nodes = new Map<string, { dependsOn: string[]; optionalDependsOn: string[] }>();
    for (const s of this.plugins.values()) {
      if (s.manifest && (s.status === 'active' || states.includes(s))) nodes.set(s.id, s.manifest);
    }
    const { order, failed } = dependencyOrder(nodes);
    for (const [id, reason] of failed) {
      const s = this.plugins.get(id)!;
      if (states.includes(s)) this.fail(s, new PlinthError(500, reason.startsWith('dependency cycle') ? 'PLINTH_ERR_DEPENDENCY_CYCLE' : 'PLINTH_ERR_DEPENDENCY', reason));
    }
    for (const id of order) {
      const s = this.plugins.get(id)!;
      if (!states.includes(s)) continue;
      const missing = s.manifest!.dependsOn.find(d => this.plugins.get(d)?.status !== 'active');
      if (missing) {
        this.fail(s, new PlinthError(500, 'PLINTH_ERR_DEPENDENCY', `depends on "${missing}", which is ${this.plugins.get(missing)?.status ?? 'not in the registry'}`));
        continue;
      }
      try {
        const gen = await this.prepare(s, s.manifest!);
        this.commit(s, gen);
      } catch (err) {
        this.fail(s, err);
      }
    }
  }

  private fail(state: PluginState, err: unknown): void {
    const e = toPlinthError(err);
    state.status = 'error';
    state.error = { code: e.code, message: e.message, at: new Date().toISOString() };
    this.env.log.error('plugin failed', { plugin: state.id, code: e.code, error: e.message });
    void this.env.bus.publish('plugin.error', { id: state.id, error: state.error }, { audience: 'admin' });
  }

  /** Loads fresh code and runs setup in a new generation; nothing is live until commit. */
  private async prepare(state: PluginState, manifest: PluginManifest): Promise<Generation> {
    const config = this.validateConfig(state.id, manifest, state.entry.config ?? {});
    const mainFile = resolve(state.dir, manifest.main);
    const inside = relative(resolve(state.dir), mainFile);
    if (inside.startsWith('..') || isAbsolute(inside)) throw new PlinthError(400, 'PLINTH_ERR_MANIFEST', `plugin.json/main must stay inside the plugin folder`);
    if (!existsSync(mainFile)) throw new PlinthError(400, 'PLINTH_ERR_MANIFEST', `plugin.json/main: ${manifest.main} does not exist in ${state.dir}`);
    // Checked now, applied at commit: a failed reload leaves the old generation's claims alone.
    this.env.routeTable.checkClaims(state.id, claimsOf(state.id, manifest), owner => this.dependsOn(state.id, owner, manifest), owner => this.dependsOn(owner, state.id));

    let definition: PluginDefinition;
    const loadStarted = performance.now();
    try {
      const loaded = loadFresh(state.dir, mainFile);
      if (!isPluginDefinition(loaded)) throw new PlinthError(500, 'PLINTH_ERR_PLUGIN_ENTRY', `${manifest.main} must default-export definePlugin({...})`);
      definition = loaded;
    } catch (err) {
      if (isPlinthError(err)) throw err;
      throw new PlinthError(500, 'PLINTH_ERR_PLUGIN_LOAD', `loading ${manifest.main} failed: ${(err as Error).message}`);
    }

    const loadMs = performance.now() - loadStarted;
    const number = ++state.generations;
    const log = createLogger(this.env.logSink, { plugin: state.id, generation: number });
    const gen = new Generation(state.id, number, manifest, state.dir, config, log, this.env.root.createChildContainer(), this.generationEnv());
    try {
      const ctx = gen.buildContext(definition.deps);
      const provided = await withTimeout(Promise.resolve(definition.setup(ctx as any)), this.env.setupTimeoutMs, `setup of ${state.id} did not finish within ${this.env.setupTimeoutMs} ms`);
      gen.provided = (provided ?? {}) as Record<string, unknown>;
      gen.timings = { loadMs: Math.round(loadMs), setupMs: Math.round(performance.now() - loadStarted - loadMs) };
      for (const ref of definition.provides) {
        if (!(ref.id in gen.provided)) throw new PlinthError(500, 'PLINTH_ERR_PROVIDES', `${state.id} declares that it provides "${ref.id}" but setup did not return it`);
      }
      for (const id of Object.keys(gen.provided)) this.checkProvides(state.id, manifest, id);
      return gen;
    } catch (err) {
      await gen.dispose();
      if (isPlinthError(err)) throw err;
      throw new PlinthError(500, 'PLINTH_ERR_PLUGIN_SETUP', `setup of ${state.id} failed: ${(err as Error).message}`);
    }
  }

  /**
   * A plugin provides only its own services (`<id>.<name>`), so none can stand in for another's;
   * a kernel-owned service (the tool policy) only when its manifest says so, and one plugin at a time.
   */
  private checkProvides(pluginId: string, manifest: PluginManifest, id: string): void {
    if (id.startsWith(`${pluginId}.`)) return;
    if (!PLUGIN_IMPLEMENTED.has(id) || !manifest.contributes.services.includes(id)) {
      const hint = PLUGIN_IMPLEMENTED.has(id) ? ` (a kernel service is implemented only when plugin.json names it under contributes.services)` : '';
      throw new PlinthError(500, 'PLINTH_ERR_PROVIDES', `${pluginId} may only provide services named "${pluginId}.<name>", not "${id}"${hint}`);
    }
    const holder = this.services.get(id);
    if (holder && holder.pluginId !== pluginId && holder.pluginId !== 'preset') {
      throw new PlinthError(500, 'PLINTH_ERR_PROVIDES', `"${id}" is already provided by ${holder.pluginId}; disable it first`);
    }
  }

  /** Whether `a` depends on `b` (required or optional), by a's current (or given) manifest. */
  private dependsOn(a: string, b: string, manifest = this.plugins.get(a)?.manifest): boolean {
    return !!manifest && (manifest.dependsOn.includes(b) || manifest.optionalDependsOn.includes(b));
  }

  private validateConfig(pluginId: string, manifest: PluginManifest, config: Record<string, unknown>): Record<string, unknown> {
    const copy = structuredClone(config);
    if (!manifest.configSchema) return copy;
    const validate = compileSchema(manifest.configSchema);
    if (!validate(copy)) {
      const { message, details } = describeErrors('config', validate.errors);
      throw new PlinthError(400, 'PLINTH_ERR_CONFIG', `invalid config for ${pluginId}: ${message}`, details);
    }
    return copy;
  }

  /** The swap: one generation out, the next in, with no moment where neither serves. */
  private commit(state: PluginState, gen: Generation): void {
    const old = state.active;
    this.env.routeTable.setClaims(state.id, claimsOf(state.id, gen.manifest));
    this.env.routeTable.setGroup(state.id, gen.routes);
    this.env.tools.install(state.id, gen.toolSet);
    this.env.wsTable.install(state.id, gen.wsEndpoints);
    for (const [id, entry] of [...this.services]) if (entry.pluginId === state.id) this.services.delete(id);
    for (const [id, impl] of Object.entries(gen.provided)) {
      const holder = this.services.get(id);
      if (holder && holder.pluginId !== state.id) this.env.log.warn('service provided twice; the newer wins', { service: id, plugins: [holder.pluginId, state.id] });
      this.services.set(id, { pluginId: state.id, impl });
    }
    gen.commit();
    state.active = gen;
    state.manifest = gen.manifest;
    state.status = 'active';
    state.error = undefined;
    state.contentHash = contentHash(state.dir);
    if (old) this.retire(old);
    this.env.log.info('plugin active', { plugin: state.id, generation: gen.number, ...gen.timings });
  }

  private retire(gen: Generation): void {
    this.retiring.push(gen);
  }

  /** In-flight requests and SSE streams finish on the old generation (bounded), then it goes. */
  private dispose(gen: Generation): void {
    const p = gen.routes.drain(this.env.drainTimeoutMs).then(() => gen.dispose());
    this.disposing.add(p);
    void p.finally(() => this.disposing.delete(p));
  }

  private deactivate(state: PluginState): void {
    const gen = state.active;
    this.env.routeTable.setGroup(state.id, undefined);
    this.env.tools.install(state.id, undefined);
    this.env.wsTable.install(state.id, undefined);
    for (const [id, entry] of [...this.services]) if (entry.pluginId === state.id) this.services.delete(id);
    this.env.routeTable.setClaims(state.id, []);
    state.active = undefined;
    if (gen) this.retire(gen);
    purgeModulesUnder(state.dir);
  }

  // ------------------------------------------------------------------ reload

  reload(id: string, reason = 'api'): Promise<PluginState> {
    return this.serial(async () => {
      const state = this.require(id);
      if (state.status === 'disabled') throw errors.conflict(`plugin ${id} is disabled; enable it first`);
      await this.reloadOne(state, reason);
      if (state.status === 'active') await this.restartDependents(id);
      return state;
    });
  }

  /**
   * `rollback` keeps the old generation serving when the new one fails. A dependent restarted
   * because its provider changed cannot roll back (its old generation holds the provider's
   * retired service), so it stops and reports the error instead.
   */
  private async reloadOne(state: PluginState, reason: string, rollback = true): Promise<void> {
    const started = performance.now();
    try {
      const manifest = readManifest(state.dir, state.id);
      const missing = manifest.dependsOn.find(d => this.plugins.get(d)?.status !== 'active');
      if (missing) throw new PlinthError(500, 'PLINTH_ERR_DEPENDENCY', `depends on "${missing}", which is ${this.plugins.get(missing)?.status ?? 'not in the registry'}`);
      const gen = await this.prepare(state, manifest);
      this.commit(state, gen);
      state.lastReload = { at: new Date().toISOString(), ok: true, ms: Math.round(performance.now() - started) };
      void this.env.bus.publish('plugin.reloaded', { id: state.id, generation: gen.number, reason }, { audience: 'all' });
    } catch (err) {
      const e = toPlinthError(err);
      state.lastReload = { at: new Date().toISOString(), ok: false, ms: Math.round(performance.now() - started) };
      if (state.active && !rollback) {
        this.deactivate(state);
        this.fail(state, new PlinthError(e.status, e.code, `stopped: ${reason}, and the new generation failed: ${e.message}`));
      } else if (state.active) {
        // Rollback: the old generation never stopped serving; only report.
        state.error = { code: e.code, message: `reload failed, still serving generation ${state.active.number}: ${e.message}`, at: new Date().toISOString() };
        this.env.log.error('plugin reload failed; old generation kept', { plugin: state.id, code: e.code, error: e.message });
        void this.env.bus.publish('plugin.reload_failed', { id: state.id, error: state.error }, { audience: 'admin' });
      } else {
        this.fail(state, e);
      }
    }
  }

  /** Plugins that depend on `id` get a new generation with the new service (in dependency order). */
  private async restartDependents(id: string): Promise<void> {
    const affected = new Set<string>();
    const visit = (dep: string) => {
      for (const s of this.plugins.values()) {
        if (!s.manifest || affected.has(s.id) || s.status === 'disabled') continue;
        if (s.manifest.dependsOn.includes(dep) || s.manifest.optionalDependsOn.includes(dep)) { affected.add(s.id); visit(s.id); }
      }
    };
    visit(id);
    if (!affected.size) return;
    const nodes = new Map([...affected].map(a => [a, this.plugins.get(a)!.manifest!] as const));
    const { order } = dependencyOrder(new Map([...nodes].map(([k, m]) => [k, { dependsOn: m.dependsOn.filter(d => affected.has(d)), optionalDependsOn: m.optionalDependsOn.filter(d => affected.has(d)) }])));
    for (const dep of order) {
      const s = this.plugins.get(dep)!;
      const missing = s.manifest!.dependsOn.find(d => this.plugins.get(d)?.status !== 'active');
      if (missing) {
        if (s.active) this.deactivate(s);
        this.fail(s, new PlinthError(500, 'PLINTH_ERR_DEPENDENCY', `depends on "${missing}", which is ${this.plugins.get(missing)?.status}`));
        continue;
      }
      await this.reloadOne(s, `dependency ${id} changed`, false);
    }
  }

  // ------------------------------------------------------------------ toggle

  setEnabled(id: string, enabled: boolean): Promise<PluginState> {
    return this.serial(async () => {
      const state = this.require(id);
      this.env.registry.update(entries => {
        const e = entries.find(x => x.id === id);
        if (e) e.enabled = enabled;
      });
      state.entry.enabled = enabled;
      if (!enabled) {
        if (state.status !== 'disabled') {
          this.deactivate(state);
          state.status = 'disabled';
          state.error = undefined;
          void this.env.bus.publish('plugin.disabled', { id }, { audience: 'all' });
        }
      } else if (state.status === 'disabled' || state.status === 'error') {
        state.status = 'loading';
        try {
          state.manifest = readManifest(state.dir, id);
          await this.startInOrder([state]);
        } catch (err) {
          this.fail(state, err);
        }
        if ((state.status as PluginStatus) === 'active') void this.env.bus.publish('plugin.enabled', { id }, { audience: 'all' });
      }
      await this.restartDependents(id);
      return state;
    });
  }

  /**
   * A config change is applied by a new generation with the new config (a reload). The registry
   * file changes only once that generation serves (or, for a plugin that is not running, once the
   * config passed its schema).
   */
  setConfig(id: string, config: Record<string, unknown>): Promise<PluginState> {
    return this.serial(async () => {
      const state = this.require(id);
      const manifest = state.manifest ?? readManifest(state.dir, id);
      this.validateConfig(id, manifest, config);
      const previous = state.entry.config;
      state.entry.config = config;
      if (state.status === 'active' || state.status === 'error') {
        const before = state.active;
        await this.reloadOne(state, 'config');
        if (state.status !== 'active' || state.active === before) {
          state.entry.config = previous;
          throw new PlinthError(422, 'PLINTH_ERR_CONFIG_REJECTED', `the new config of ${id} was not applied: ${state.error?.message ?? 'setup failed'}`);
        }
        if (state.status === 'active') await this.restartDependents(id);
      }
      this.env.registry.update(entries => {
        const e = entries.find(x => x.id === id);
        if (e) e.config = config;
      });
      return state;
    });
  }

  private require(id: string): PluginState {
    const s = this.plugins.get(id);
    if (!s) throw errors.notFound(`plugin ${id}`);
    return s;
  }

  /** Whether a changed file matters: the hash of what the plugin loaded (and its manifest). */
  hasChanged(id: string): boolean {
    const s = this.plugins.get(id);
    if (!s || s.status === 'disabled') return false;
    if (s.status === 'error') return true;
    return contentHash(s.dir) !== s.contentHash;
  }

  // ------------------------------------------------------------------ stop

  stopAll(): Promise<void> {
    return this.serial(async () => {
      if (this.stopped) return;
      this.stopped = true;
      const order = [...this.plugins.values()].filter(s => s.active);
      const nodes = new Map(order.map(s => [s.id, s.manifest!] as const));
      const { order: forward } = dependencyOrder(nodes);
      for (const id of forward.reverse()) {
        const s = this.plugins.get(id)!;
        const gen = s.active!;
        this.deactivate(s);
        s.status = 'disabled';
        await gen.dispose();
      }
      await Promise.allSettled([...this.disposing]);
    });
  }
}

function claimsOf(pluginId: string, manifest: PluginManifest): string[] {
  return [...new Set([`/api/${pluginId}`, ...manifest.contributes.routes, ...manifest.contributes.ws])];
}

function contentHash(dir: string): string {
  const h = createHash('sha1');
  for (const file of [join(dir, 'plugin.json'), ...loadedFilesUnder(dir).sort()]) {
    h.update(file);
    try { h.update(readFileSync(file)); } catch { h.update('missing'); }
  }
  return h.digest('hex');
}

function toPlinthError(err: unknown): PlinthError {
  if (isPlinthError(err)) return err;
  return new PlinthError(500, 'PLINTH_ERR_PLUGIN', (err as Error)?.message ?? String(err));
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => { t = setTimeout(() => reject(new PlinthError(500, 'PLINTH_ERR_SETUP_TIMEOUT', message)), ms); }),
  ]);
}
