import { rmSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { errors, kernelErrors } from '../../sdk';
import { grantFor } from './grants';
import { readManifest } from './manifest';
import { installPrepared, type InstalledPlugin, type PreparedPackage } from './package-install';
import type { PluginHost } from './plugin-host';
import type { PluginState } from './plugin-states';
import { setEnabled } from './plugin-toggle';

/** Where `plinth plugins add` installs packages: `$PLINTH_DATA_DIR/plugins-installed/<id>/`. */
export function installedPluginsDir(dataDir: string): string {
  return join(dataDir, 'plugins-installed');
}

/** Only what `plugins add` installed is deleted; an entry pointing elsewhere keeps its folder. */
export function deleteInstalledFolder(dataDir: string, dir: string): void {
  const rel = relative(installedPluginsDir(dataDir), dir);
  if (rel && !rel.startsWith('..') && !rel.includes(sep)) rmSync(dir, { recursive: true, force: true });
}

/**
 * The state of `id`, picking up an entry `plinth plugins add` wrote to the registry file after
 * this kernel started (it is disabled, so nothing else needs to happen to it).
 */
export function stateOrAdopt(host: PluginHost, id: string): PluginState {
  const known = host.states.all.get(id);
  if (known) return known;
  const { registry } = host.env;
  const entry = registry.read().find(e => e.id === id);
  if (!entry) return host.states.require(id);
  return host.states.add({ ...entry, enabled: false }, registry.resolvePath(entry));
}

function requireInstalled(state: PluginState): void {
  if (!state.entry.source) throw kernelErrors.error('PLINTH_ERR_PLUGIN_NOT_INSTALLED', `plugin ${state.id} was not installed as a package; it needs no grant and is not removed (disable it instead)`);
}

/**
 * Grants what the plugin's manifest on disk asks for now, recorded with that manifest's hash, and
 * puts the granted version into service (`enable`, or the held-back upgrade of an active one).
 * `expectedHash`: the manifest the admin was shown; a different one on disk is refused, so that
 * what is granted is what was read.
 */
export async function grantPlugin(host: PluginHost, id: string, opts: { expectedHash?: string; enable?: boolean }): Promise<PluginState> {
  const state = stateOrAdopt(host, id);
  requireInstalled(state);
  const manifest = readManifest(state.dir, id);
  const grants = grantFor(state.dir, manifest);
  const hash = grants.manifestHash;
  if (opts.expectedHash && opts.expectedHash !== hash) {
    throw errors.conflict(`plugin ${id}'s manifest changed since it was shown (now ${hash.slice(0, 12)}…); look at its permissions again`);
  }
  host.env.registry.update(entries => {
    const e = entries.find(x => x.id === id);
    if (e) e.grants = grants;
  });
  state.entry.grants = grants;
  host.env.log.info('plugin permissions granted', { plugin: id, version: manifest.version, permissions: grants.permissions, manifestHash: hash });
  if (state.status === 'active') {
    // A held-back upgrade (or nothing new): the granted version replaces the one serving.
    if (state.manifest?.version !== manifest.version || state.error) {
      if (await host.transaction.run(state, { reason: 'grant' })) await host.restartDependents(id);
    }
    return state;
  }
  if (opts.enable !== false || state.entry.enabled) return setEnabled(host, id, true);
  return state;
}

/** Takes an installed plugin out of service, out of the registry and off the disk. */
export async function removePlugin(host: PluginHost, id: string): Promise<{ id: string; removed: string }> {
  const state = stateOrAdopt(host, id);
  requireInstalled(state);
  if (state.status !== 'disabled') await setEnabled(host, id, false);
  host.env.registry.update(entries => { entries.splice(entries.findIndex(e => e.id === id), 1); });
  host.states.all.delete(id);
  deleteInstalledFolder(host.env.dataDir, state.dir);
  host.env.log.info('plugin removed', { plugin: id });
  void host.env.bus.publish('plugin.removed', { id }, { audience: 'all' });
  return { id, removed: state.dir };
}

/**
 * Puts a prepared package in place (package-install.ts, as `plinth plugins add` does) and, for an
 * upgrade of a plugin in service, reloads it as a transaction: a version asking for more than was
 * granted fails there, and the old one keeps serving (`heldBack`).
 */
export async function installPackage(host: PluginHost, prepared: PreparedPackage): Promise<{ installed: InstalledPlugin; state: PluginState; heldBack: boolean }> {
  const installed = installPrepared(prepared, host.env.dataDir, host.env.registry);
  const state = stateOrAdopt(host, installed.id);
  state.entry.source = installed.source;
  host.env.log.info('plugin installed', { plugin: installed.id, version: installed.manifest.version, previousVersion: installed.previousVersion, source: installed.source.spec });
  if (state.status === 'disabled') return { installed, state, heldBack: false };
  if (await host.transaction.run(state, { reason: 'upgrade' })) await host.restartDependents(installed.id);
  return { installed, state, heldBack: state.status !== 'active' || state.manifest?.version !== installed.manifest.version };
}
