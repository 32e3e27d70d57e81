import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { join, sep } from 'node:path';
import { ROOT_DIR } from '../version';

/**
 * Loads a plugin's entry as CommonJS with nothing left from an earlier generation.
 * Deleting `require.cache[id]` alone is not enough: every module that required it keeps it in
 * `module.children`, so old generations would stay reachable (OpenClaw's stale-cache bug, and
 * a leak measured at ~47 MB after 300 reloads). We drop both.
 */
export function purgeModulesUnder(dir: string): number {
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  const cache = (Module as any)._cache as Record<string, NodeModule>;
  const purged = new Set<NodeModule>();
  // for…in, not Object.entries: this runs for every plugin at start over thousands of modules,
  // and the pairs Object.entries builds were a measurable share of the cold start.
  for (const id in cache) {
    if (id.startsWith(prefix) && !id.includes(`${sep}node_modules${sep}`)) {
      purged.add(cache[id]);
      delete cache[id];
    }
  }
  if (purged.size === 0) return 0;
  for (const id in cache) {
    const mod = cache[id];
    if (mod.children?.some(c => purged.has(c))) mod.children = mod.children.filter(c => !purged.has(c));
  }
  return purged.size;
}

/**
 * A plugin outside this package (installed under the data dir, or a folder given to `plinth dev`)
 * resolves `plinth`, `plinth/sdk`, `plinth/contracts/*`, … to this kernel's own copy: one SDK in
 * the process (a plugin's own copy would bring other classes), and none needs installing beside it
 * (`plinth plugins add` installs a plugin's dependencies without its `plinth` peer).
 */
const kernelRootPrefix = ROOT_DIR.endsWith(sep) ? ROOT_DIR : ROOT_DIR + sep;
const M = Module as any;
if (!M.__plinthSelfAlias) {
  M.__plinthSelfAlias = true;
  const selfParent = { id: join(ROOT_DIR, 'package.json'), filename: join(ROOT_DIR, 'package.json'), paths: M._nodeModulePaths(ROOT_DIR) };
  const resolveFilename = M._resolveFilename;
  M._resolveFilename = function resolvePlinth(this: unknown, request: string, parent: any, ...rest: unknown[]) {
    if ((request === 'plinth' || request.startsWith('plinth/')) && parent?.filename && !parent.filename.startsWith(kernelRootPrefix)) {
      return resolveFilename.call(this, request, selfParent, ...rest);
    }
    return resolveFilename.call(this, request, parent, ...rest);
  };
}

export function loadFresh(dir: string, entryFile: string): unknown {
  purgeModulesUnder(dir);
  try {
    const mod = require(entryFile);
    // Our own `module.children` now holds the entry; it must not keep the generation alive.
    module.children = module.children.filter(c => c.id !== entryFile);
    return mod && mod.__esModule && 'default' in mod ? mod.default : mod.default ?? mod;
  } catch (err) {
    purgeModulesUnder(dir);
    throw err;
  }
}

/** Files of this plugin currently loaded, for the content hash that decides whether a change matters. */
export function loadedFilesUnder(dir: string): string[] {
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  return Object.keys((Module as any)._cache).filter(id => id.startsWith(prefix) && !id.includes(`${sep}node_modules${sep}`));
}

/** Whether a changed file matters: the hash of what the plugin loaded (and its manifest). */
export function loadedContentHash(dir: string, more: string[] = []): string {
  const h = createHash('sha1');
  for (const file of [join(dir, 'plugin.json'), ...loadedFilesUnder(dir).sort(), ...more.sort()]) {
    h.update(file);
    try { h.update(readFileSync(file)); } catch { h.update('missing'); }
  }
  return h.digest('hex');
}
