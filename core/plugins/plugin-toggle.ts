import { grantRefusal } from './grants';
import { readManifest, type PluginManifest } from './manifest';
import type { PluginHost } from './plugin-host';
import type { PluginState, PluginStatus } from './plugin-states';

/**
 * Enable or disable a plugin, recorded in the registry file. Disabling takes it out of service;
 * enabling starts it (after what it depends on). Either way its dependents restart, so that
 * they get (or lose) its services.
 */
export async function setEnabled(host: PluginHost, id: string, enabled: boolean): Promise<PluginState> {
  const { states, transaction, env } = host;
  const state = states.require(id);
  if (enabled) {
    // Refused before anything changes: enabling never grants (that is `--grant`, or POST …/grant).
    let manifest: PluginManifest | undefined;
    try { manifest = readManifest(state.dir, id); } catch { /* reported as the plugin's error below */ }
    const refusal = manifest && grantRefusal(state.entry, manifest);
    if (refusal) throw refusal;
  }
  env.registry.update(entries => {
    const e = entries.find(x => x.id === id);
    if (e) e.enabled = enabled;
  });
  state.entry.enabled = enabled;
  if (!enabled) {
    if (state.status !== 'disabled') {
      transaction.stop(state);
      states.disabled(state);
      void env.bus.publish('plugin.disabled', { id }, { audience: 'all' });
    }
  } else if (state.status === 'disabled' || state.status === 'error') {
    states.loading(state);
    try {
      state.manifest = readManifest(state.dir, id);
      await host.startInOrder([state]);
    } catch (err) {
      states.failed(state, err);
    }
    if ((state.status as PluginStatus) === 'active') void env.bus.publish('plugin.enabled', { id }, { audience: 'all' });
  }
  await host.restartDependents(id);
  return state;
}
