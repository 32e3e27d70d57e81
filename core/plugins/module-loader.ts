import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { join, sep } from 'node:path';

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
  for (const [id, mod] of Object.entries(cache)) {
    if (id.startsWith(prefix) && !id.includes(`${sep}node_modules${sep}`)) {
      purged.add(mod);
      delete cache[id];
    }
  }
  if (purged.size === 0) return 0;
  for (const mod of Object.values(cache)) {
    if (mod.children?.some(c => purged.has(c))) mod.children = mod.children.filter(c => !purged.has(c));
  }
  return purged.size;
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
