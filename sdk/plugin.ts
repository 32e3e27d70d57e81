import type { AnyServiceRef, ResolvedDeps, ServiceRef } from './refs';
import type { PluginContext } from './types';

export const PLUGIN_MARKER = Symbol.for('plinth.plugin');

export interface PluginDefinition<D extends Record<string, AnyServiceRef> = Record<string, AnyServiceRef>, C = any> {
  readonly [PLUGIN_MARKER]: true;
  deps: D;
  provides: ServiceRef<unknown>[];
  setup(ctx: PluginContext<C> & ResolvedDeps<D>): Promise<ProvidedServices | void> | ProvidedServices | void;
}

/** Map from a provided ref's id to its implementation: `{ [memoryRef.id]: store }`. */
export type ProvidedServices = Record<string, unknown>;

/**
 * The entry module of a plugin default-exports this. `deps` names the services it needs by
 * typed refs (never by constructor reflection, so any transpiler works); `setup` gets them by
 * name beside the plugin-scoped context and returns the services it `provides`.
 */
export function definePlugin<D extends Record<string, AnyServiceRef> = {}, C = any>(definition: {
  deps?: D;
  provides?: ServiceRef<any>[];
  setup(ctx: PluginContext<C> & ResolvedDeps<D>): Promise<ProvidedServices | void> | ProvidedServices | void;
}): PluginDefinition<D, C> {
  return {
    [PLUGIN_MARKER]: true,
    deps: definition.deps ?? ({} as D),
    provides: definition.provides ?? [],
    setup: definition.setup,
  };
}

export function isPluginDefinition(value: unknown): value is PluginDefinition {
  return !!value && typeof value === 'object' && (value as any)[PLUGIN_MARKER] === true;
}
