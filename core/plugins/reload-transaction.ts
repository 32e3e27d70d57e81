import { PlinthError, type Logger } from '../../sdk';
import type { KernelEventBus } from '../events';
import type { Contributions } from './contributions';
import type { Generation } from './generation';
import type { GenerationLoader, LoadedPlugin } from './generation-loader';
import { grantRefusal } from './grants';
import { readManifest, validatePluginConfig, type PluginManifest } from './manifest';
import { loadedContentHash, purgeModulesUnder } from './module-loader';
import { bundleInputs } from './sandboxed/plugin-bundle';
import { toPlinthError, type PluginState, type PluginStates } from './plugin-states';

export interface TransactionEnv {
  states: PluginStates;
  loader: GenerationLoader;
  contributions: Contributions;
  bus: KernelEventBus;
  log: Logger;
  drainTimeoutMs: number;
  dataDir: string;
}

export interface Change {
  /** Why (`api`, `watch`, `config`, `dependency x changed`); none when the plugin starts. */
  reason?: string;
  /** The manifest already read (at start); otherwise it is read again. */
  manifest?: PluginManifest;
  /**
   * `rollback` (the default) keeps the old generation serving when the new one fails. A dependent
   * restarted because its provider changed cannot roll back (its old generation holds the
   * provider's retired service), so it stops and reports the error instead.
   */
  onFailure?: 'rollback' | 'stop';
}

/**
 * Starting or replacing a plugin's generation, as a transaction: prepare (checks that need no
 * plugin code, then the code) → set up (a new generation beside the old one) → commit (its
 * contributions swap in) → retire (the old one finishes its requests, then goes). A failure in
 * any step rolls back: nothing of the new generation stays, and the old one keeps serving.
 */
export class ReloadTransaction {
  private readonly retiring: Generation[] = [];
  private readonly disposing = new Set<Promise<void>>();

  constructor(private readonly env: TransactionEnv) {}

  /** Whether the new generation serves; a failure is recorded on the state, never thrown. */
  async run(state: PluginState, change: Change = {}): Promise<boolean> {
    const started = performance.now();
    try {
      const loaded = this.prepare(state, change.manifest ?? readManifest(state.dir, state.id));
      const gen = await this.env.loader.setUp(loaded, ++state.generations);
      this.commit(state, gen);
      if (change.reason) {
        state.lastReload = { at: new Date().toISOString(), ok: true, ms: Math.round(performance.now() - started) };
        void this.env.bus.publish('plugin.reloaded', { id: state.id, generation: gen.number, reason: change.reason }, { audience: 'all' });
      }
      return true;
    } catch (err) {
      if (change.reason) state.lastReload = { at: new Date().toISOString(), ok: false, ms: Math.round(performance.now() - started) };
      this.rollback(state, err, change);
      return false;
    }
  }

  private prepare(state: PluginState, manifest: PluginManifest): LoadedPlugin {
    // A version asking for more than was granted never runs; the one serving (if any) stays.
    const refusal = grantRefusal(state.entry, manifest);
    if (refusal) throw refusal;
    const unmet = this.env.states.unmetDependency(manifest);
    if (unmet) throw unmet;
    const config = validatePluginConfig(state.id, manifest, state.entry.config ?? {});
    const { states } = this.env;
    this.env.contributions.checkClaims(state.id, manifest, owner => states.dependsOn(state.id, owner, manifest), owner => states.dependsOn(owner, state.id));
    return this.env.loader.load(state.id, state.dir, manifest, config, state.entry.isolation);
  }

  /** The swap: one generation out, the next in, with no moment where neither serves. */
  private commit(state: PluginState, gen: Generation): void {
    const old = state.active;
    this.env.contributions.install(gen);
    gen.commit();
    state.active = gen;
    state.manifest = gen.manifest;
    state.contentHash = loadedContentHash(state.dir, state.entry.isolation === 'sandbox' ? bundleInputs(this.env.dataDir, state.id, state.dir) : []);
    this.env.states.activated(state);
    if (old) this.retire(old);
    this.env.log.info('plugin active', { plugin: state.id, generation: gen.number, ...gen.timings });
  }

  /** The loader already disposed a generation whose setup failed; what is left is what to report. */
  private rollback(state: PluginState, err: unknown, change: Change): void {
    const e = toPlinthError(err);
    if (state.active && change.onFailure === 'stop') {
      this.stop(state);
      const stopped = e.code === 'PLINTH_ERR_DEPENDENCY' ? e : new PlinthError(e.status, e.code, `stopped: ${change.reason}, and the new generation failed: ${e.message}`, undefined, undefined, { cause: e });
      this.env.states.failed(state, stopped);
    } else if (state.active) {
      this.env.states.reloadFailed(state, e);
    } else {
      this.env.states.failed(state, e);
    }
  }

  /** Takes a plugin out of service: its contributions go, its generation retires. */
  stop(state: PluginState): Generation | undefined {
    const gen = state.active;
    this.env.contributions.uninstall(state.id);
    state.active = undefined;
    if (gen) this.retire(gen);
    purgeModulesUnder(state.dir);
    return gen;
  }

  /**
   * Retired generations are disposed once the operation that replaced them is over, so that
   * dependents still bound to a provider's old service are restarted first.
   */
  private retire(gen: Generation): void {
    this.retiring.push(gen);
  }

  /** In-flight requests and SSE streams finish on a retired generation (bounded), then it goes. */
  disposeRetired(): void {
    for (const gen of this.retiring.splice(0)) {
      const p = gen.routes.drain(this.env.drainTimeoutMs).then(() => gen.dispose());
      this.disposing.add(p);
      void p.finally(() => this.disposing.delete(p));
    }
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.disposing]);
  }
}
