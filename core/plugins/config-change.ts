import { PlinthError } from '../../sdk';
import { readManifest, validatePluginConfig } from './manifest';
import type { PluginHost } from './plugin-host';
import type { PluginState } from './plugin-states';

/**
 * A config change is applied by a new generation with the new config (a reload). The registry
 * file changes only once that generation serves (or, for a plugin that is not running, once the
 * config passed its schema).
 */
export async function applyConfig(host: PluginHost, id: string, config: Record<string, unknown>): Promise<PluginState> {
  const state = host.states.require(id);
  const manifest = state.manifest ?? readManifest(state.dir, id);
  validatePluginConfig(id, manifest, config);
  const previous = state.entry.config;
  state.entry.config = config;
  if (state.status === 'active' || state.status === 'error') {
    const before = state.active;
    await host.transaction.run(state, { reason: 'config' });
    if (state.status !== 'active' || state.active === before) {
      state.entry.config = previous;
      throw new PlinthError(422, 'PLINTH_ERR_CONFIG_REJECTED', `the new config of ${id} was not applied: ${state.error?.message ?? 'setup failed'}`);
    }
    await host.restartDependents(id);
  }
  host.env.registry.update(entries => {
    const e = entries.find(x => x.id === id);
    if (e) e.config = config;
  });
  return state;
}
