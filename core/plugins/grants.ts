import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelErrors, type PlinthError } from '../../sdk';
import type { PluginManifest } from './manifest';
import type { RegistryEntry } from './registry-file';

/** What an admin granted a plugin installed from a package, and for which manifest (its sha256). */
export interface PluginGrants {
  permissions: Record<string, unknown>;
  manifestHash: string;
  grantedAt: string;
}

export function manifestHash(pluginDir: string): string {
  return createHash('sha256').update(readFileSync(join(pluginDir, 'plugin.json'))).digest('hex');
}

/** A grant of everything the manifest in `pluginDir` asks for. */
export function grantFor(pluginDir: string, manifest: Pick<PluginManifest, 'permissions'>): PluginGrants {
  return { permissions: requestedPermissions(manifest), manifestHash: manifestHash(pluginDir), grantedAt: new Date().toISOString() };
}

/** The permissions a manifest asks for, without the empty ones (an empty list or `false` asks nothing). */
export function requestedPermissions(manifest: Pick<PluginManifest, 'permissions'>): Record<string, unknown> {
  const asked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(manifest.permissions ?? {})) {
    if (value === false || value === null || value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    asked[key] = value;
  }
  return asked;
}

/**
 * What `requested` asks beyond `granted`, key by key: list items not granted, a flag not granted,
 * a number above the granted one (`memoryMb`). Empty when the grant covers it.
 */
export function ungranted(requested: Record<string, unknown>, granted: Record<string, unknown> = {}): Record<string, unknown> {
  const more: Record<string, unknown> = {};
  for (const [key, want] of Object.entries(requested)) {
    const have = granted[key];
    if (Array.isArray(want)) {
      const missing = want.filter(x => !(Array.isArray(have) && have.includes(x)));
      if (missing.length) more[key] = missing;
    } else if (typeof want === 'number') {
      if (!(typeof have === 'number' && want <= have)) more[key] = want;
    } else if (JSON.stringify(want) !== JSON.stringify(have)) {
      more[key] = want;
    }
  }
  return more;
}

/** `network: a.example, b.example; pty` — for messages and the CLI. */
export function describePermissions(perms: Record<string, unknown>): string {
  return Object.entries(perms).map(([k, v]) => Array.isArray(v) ? `${k}: ${v.join(', ')}` : v === true ? k : `${k}: ${JSON.stringify(v)}`).join('; ');
}

/**
 * Plugins installed from a package (`plinth plugins add`, an entry with a `source`) run only
 * with what an admin granted. First-party and checkout plugins were put in the registry by the
 * admin, which is their grant. Returns the refusal, or undefined when the plugin may run.
 */
export function grantRefusal(entry: RegistryEntry, manifest: PluginManifest): PlinthError | undefined {
  if (!entry.source) return undefined;
  const more = ungranted(requestedPermissions(manifest), entry.grants?.permissions);
  if (Object.keys(more).length === 0) return undefined;
  const what = entry.grants ? `version ${manifest.version} asks for more than was granted` : `it asks for permissions that were not granted`;
  return kernelErrors.error('PLINTH_ERR_GRANT_REQUIRED', `plugin ${entry.id}: ${what} (${describePermissions(more)}); an admin grants them with \`plinth plugins enable ${entry.id} --grant\` or POST /api/plugins/${entry.id}/grant`, { details: { ungranted: more } });
}
