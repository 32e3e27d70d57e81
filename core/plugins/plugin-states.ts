import { PlinthError, errors, isPlinthError, type Logger } from '../../sdk';
import type { KernelEventBus } from '../events';
import { stackChain } from '../log';
import { dependencyOrder } from './dependency-order';
import type { Generation } from './generation';
import type { PluginManifest } from './manifest';
import type { RegistryEntry } from './registry-file';

/**
 * `loading` → `active` | `error`; `active` → `error` (its dependency went, a fault) | `disabled`;
 * `error` | `disabled` → `loading` (enable, reload). An `active` plugin whose reload failed stays
 * `active` on its old generation, with the failure in `error`.
 */
export type PluginStatus = 'active' | 'disabled' | 'error' | 'loading';

export interface PluginState {
  id: string;
  entry: RegistryEntry;
  dir: string;
  manifest?: PluginManifest;
  status: PluginStatus;
  error?: { code: string; message: string; at: string };
  /** The generation serving now; set and cleared by the reload transaction. */
  active?: Generation;
  generations: number;
  contentHash?: string;
  lastReload?: { at: string; ok: boolean; ms: number };
}

/** The plugins' states and their transitions, each reported the same way (log and event). */
export class PluginStates {
  readonly all = new Map<string, PluginState>();

  constructor(private readonly env: { log: Logger; bus: KernelEventBus }) {}

  add(entry: RegistryEntry, dir: string): PluginState {
    const state: PluginState = { id: entry.id, entry, dir, status: entry.enabled === false ? 'disabled' : 'loading', generations: 0 };
    this.all.set(entry.id, state);
    return state;
  }

  require(id: string): PluginState {
    const s = this.all.get(id);
    if (!s) throw errors.notFound(`plugin ${id}`);
    return s;
  }

  loading(state: PluginState): void {
    state.status = 'loading';
  }

  activated(state: PluginState): void {
    state.status = 'active';
    state.error = undefined;
  }

  disabled(state: PluginState): void {
    state.status = 'disabled';
    state.error = undefined;
  }

  failed(state: PluginState, err: unknown): void {
    const e = toPlinthError(err);
    state.status = 'error';
    state.error = { code: e.code, message: e.message, at: new Date().toISOString() };
    this.env.log.error('plugin failed', { plugin: state.id, code: e.code, error: e.message, stack: stackChain(e) });
    void this.env.bus.publish('plugin.error', { id: state.id, error: state.error }, { audience: 'admin' });
  }

  /** The old generation never stopped serving; only report. */
  reloadFailed(state: PluginState, err: unknown): void {
    const e = toPlinthError(err);
    state.error = { code: e.code, message: `reload failed, still serving generation ${state.active?.number}: ${e.message}`, at: new Date().toISOString() };
    this.env.log.error('plugin reload failed; old generation kept', { plugin: state.id, code: e.code, error: e.message, stack: stackChain(e) });
    void this.env.bus.publish('plugin.reload_failed', { id: state.id, error: state.error }, { audience: 'admin' });
  }

  /** The one dependency check: a required dependency that is not active, as the error to report. */
  unmetDependency(manifest: PluginManifest): PlinthError | undefined {
    const missing = manifest.dependsOn.find(d => this.all.get(d)?.status !== 'active');
    if (!missing) return undefined;
    return new PlinthError(500, 'PLINTH_ERR_DEPENDENCY', `depends on "${missing}", which is ${this.all.get(missing)?.status ?? 'not in the registry'}`);
  }

  /** Whether `a` depends on `b` (required or optional), by a's current (or given) manifest. */
  dependsOn(a: string, b: string, manifest = this.all.get(a)?.manifest): boolean {
    return !!manifest && (manifest.dependsOn.includes(b) || manifest.optionalDependsOn.includes(b));
  }

  /** Plugins not disabled that depend on `id`, directly or not, in dependency order. */
  dependentsOf(id: string): PluginState[] {
    const affected = new Set<string>();
    const visit = (dep: string) => {
      for (const s of this.all.values()) {
        if (!s.manifest || affected.has(s.id) || s.status === 'disabled') continue;
        if (this.dependsOn(s.id, dep)) { affected.add(s.id); visit(s.id); }
      }
    };
    visit(id);
    const within = (deps: string[]) => deps.filter(d => affected.has(d));
    const nodes = new Map([...affected].map(a => {
      const m = this.all.get(a)!.manifest!;
      return [a, { dependsOn: within(m.dependsOn), optionalDependsOn: within(m.optionalDependsOn) }] as const;
    }));
    return dependencyOrder(nodes).order.map(a => this.all.get(a)!);
  }
}

export function toPlinthError(err: unknown): PlinthError {
  if (isPlinthError(err)) return err;
  return new PlinthError(500, 'PLINTH_ERR_PLUGIN', (err as Error)?.message ?? String(err), undefined, undefined, { cause: err });
}
