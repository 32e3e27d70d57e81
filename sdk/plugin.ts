import type { AnyServiceRef, ResolvedDeps, ServiceRef } from './refs';
import type { PluginContext } from './types';

export const PLUGIN_MARKER = Symbol.for('plinth.plugin');

export interface PluginDefinition<D extends Record<string, AnyServiceRef> = Record<string, AnyServiceRef>, C = any> {
  readonly [PLUGIN_MARKER]: true;
  deps: D;
  provides: ServiceRef<unknown>[];
  setup(ctx: PluginContext<C> & ResolvedDeps<D>): Promise<void> | void;
}

/**
 * The entry module of a plugin default-exports this. `deps` names the services it needs by
 * typed refs (never by constructor reflection, so any transpiler works); `setup` gets them by
 * name beside the plugin-scoped context and calls `provide(ref, impl)` for each ref it lists in
 * `provides`. Every ref in `deps` must name its provider (the id's prefix) in plugin.json:
 * `dependsOn` for a required ref, `optionalDependsOn` for `ref.asOptional()`.
 */
export function definePlugin<D extends Record<string, AnyServiceRef> = {}, C = any>(definition: {
  deps?: D;
  provides?: ServiceRef<any>[];
  setup(ctx: PluginContext<C> & ResolvedDeps<D>): Promise<void> | void;
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
