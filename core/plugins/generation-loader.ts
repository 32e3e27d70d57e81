import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { PlinthError, isPluginDefinition, isPlinthError, type AnyServiceRef, type PluginDefinition } from '../../sdk';
import type { PluginFaults } from '../faults';
import type { RouteEnv } from '../http/routes';
import { createLogger, type LogSink } from '../log';
import { Generation } from './generation';
import type { PluginManifest } from './manifest';
import { loadFresh } from './module-loader';
import { providerOf, type ServiceRegistry } from './service-registry';
import { sandboxedDefinition, type SandboxedEnv } from './sandboxed/sandboxed-definition';

export interface LoaderEnv {
  services: ServiceRegistry<Generation>;
  routeEnv: RouteEnv;
  dataDir: string;
  logSink: LogSink;
  setupTimeoutMs: number;
  faults: PluginFaults;
  /** For plugins whose registry entry says `isolation: "sandbox"`. */
  sandboxed: SandboxedEnv;
}

/** A plugin's code, loaded fresh and checked against its manifest, not yet run. */
export interface LoadedPlugin {
  pluginId: string;
  dir: string;
  manifest: PluginManifest;
  config: Record<string, unknown>;
  definition: PluginDefinition;
  loadMs: number;
}

/** Loads a plugin's entry and runs its setup in a new generation; nothing is live until commit. */
export class GenerationLoader {
  constructor(private readonly env: LoaderEnv) {}

  load(pluginId: string, dir: string, manifest: PluginManifest, config: Record<string, unknown>, isolation: 'in-process' | 'sandbox' = 'in-process'): LoadedPlugin {
    const mainFile = resolve(dir, manifest.main);
    const inside = relative(resolve(dir), mainFile);
    if (inside.startsWith('..') || isAbsolute(inside)) throw new PlinthError(400, 'PLINTH_ERR_MANIFEST', `plugin.json/main must stay inside the plugin folder`);
    if (!existsSync(mainFile)) throw new PlinthError(400, 'PLINTH_ERR_MANIFEST', `plugin.json/main: ${manifest.main} does not exist in ${dir}`);
    const started = performance.now();
    // Its code runs only in its own process; here it is a stand-in that starts it (see sandboxed/).
    if (isolation === 'sandbox') return { pluginId, dir, manifest, config, definition: sandboxedDefinition(pluginId, dir, manifest, this.env.sandboxed), loadMs: 0 };
    let definition: PluginDefinition;
    try {
      const loaded = loadFresh(dir, mainFile);
      if (!isPluginDefinition(loaded)) throw new PlinthError(500, 'PLINTH_ERR_PLUGIN_ENTRY', `${manifest.main} must default-export definePlugin({...})`);
      definition = loaded;
    } catch (err) {
      if (isPlinthError(err)) throw err;
      throw new PlinthError(500, 'PLINTH_ERR_PLUGIN_LOAD', `loading ${manifest.main} failed: ${(err as Error).message}`, undefined, undefined, { cause: err });
    }
    checkDeclaredDependencies(pluginId, manifest, definition.deps);
    return { pluginId, dir, manifest, config, definition, loadMs: performance.now() - started };
  }

  /** Runs setup against fresh scoped services; a failure disposes everything it registered. */
  async setUp(plugin: LoadedPlugin, number: number): Promise<Generation> {
    const { pluginId, definition } = plugin;
    const log = createLogger(this.env.logSink, { plugin: pluginId, generation: number });
    const gen = new Generation(pluginId, number, plugin.manifest, plugin.dir, plugin.config, log, definition.provides, this.env);
    const started = performance.now();
    try {
      const ctx = gen.buildContext(definition.deps);
      const returned: unknown = await withTimeout(Promise.resolve(definition.setup(ctx as any)), this.env.setupTimeoutMs, `setup of ${pluginId} did not finish within ${this.env.setupTimeoutMs} ms`);
      if (returned && typeof returned === 'object' && Object.keys(returned).length) {
        throw new PlinthError(500, 'PLINTH_ERR_PROVIDES', `setup of ${pluginId} returned services by name; offer each with provide(ref, impl) instead`);
      }
      gen.checkProvided();
      gen.timings = { loadMs: Math.round(plugin.loadMs), setupMs: Math.round(performance.now() - started) };
      return gen;
    } catch (err) {
      await gen.dispose();
      if (isPlinthError(err)) throw err;
      throw new PlinthError(500, 'PLINTH_ERR_PLUGIN_SETUP', `setup of ${pluginId} failed: ${(err as Error).message}`, undefined, undefined, { cause: err });
    }
  }
}

/**
 * Dependencies are declared once: every ref in `deps` names its provider (the id's prefix), which
 * plugin.json must list (`dependsOn` for a required ref, `optionalDependsOn` for an optional
 * one), and every plugin listed there must be used by a ref. `core.*` refs are the kernel's.
 */
export function checkDeclaredDependencies(pluginId: string, manifest: PluginManifest, deps: Record<string, AnyServiceRef>): void {
  const mismatch = (message: string, field: string) => new PlinthError(500, 'PLINTH_ERR_DEPENDS_MISMATCH', `${pluginId}: ${message}`, [{ field: `plugin.json/${field}`, message }]);
  const used = new Set<string>();
  for (const [key, ref] of Object.entries(deps ?? {})) {
    if (!ref || typeof ref.id !== 'string') continue;
    const provider = providerOf(ref.id);
    if (provider === 'core') continue;
    used.add(provider);
    const field = ref.optional ? 'optionalDependsOn' : 'dependsOn';
    if (!manifest[field].includes(provider)) {
      const other = ref.optional ? 'dependsOn' : 'optionalDependsOn';
      const listed = manifest[other].includes(provider) ? `; it is listed in ${other}, but deps.${key} is ${ref.optional ? 'optional' : 'required'}` : '';
      throw mismatch(`deps.${key} uses "${ref.id}"${ref.optional ? ' (optional)' : ''}, so plugin.json/${field} must list "${provider}"${listed}`, field);
    }
  }
  for (const field of ['dependsOn', 'optionalDependsOn'] as const) {
    const unused = manifest[field].find(p => !used.has(p));
    if (unused) throw mismatch(`plugin.json/${field} lists "${unused}", but no ref in deps uses a "${unused}.*" service; remove it or add the ref to deps`, field);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => { t = setTimeout(() => reject(new PlinthError(500, 'PLINTH_ERR_SETUP_TIMEOUT', message)), ms); }),
  ]);
}
