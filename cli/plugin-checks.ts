import { join } from 'node:path';
import type { DoctorCheck, DoctorCheckResult } from '../sdk';
import { readManifest } from '../core/plugins/manifest';
import type { RegistryEntry, RegistryFile } from '../core/plugins/registry-file';
import { compileSchema } from '../core/validation';

/** How long the doctor waits for one contributed check before it counts as failed. */
const CHECK_TIMEOUT_MS = 10_000;

/**
 * Runs the checks that enabled plugins contribute through `contributes.checks` in their manifest
 * (see sdk/doctor-checks.ts). A plugin whose manifest or config is broken contributes nothing here:
 * the manifest check already reports it.
 */
export async function pluginChecks(registry: RegistryFile, entries: RegistryEntry[] | undefined): Promise<DoctorCheckResult[]> {
  const results = await Promise.all((entries ?? []).filter(e => e.enabled !== false).map(async entry => {
    const dir = registry.resolvePath(entry);
    let manifest;
    try { manifest = readManifest(dir, entry.id); } catch { return []; }
    if (!manifest.contributes.checks) return [];
    const config = structuredClone(entry.config ?? {});
    if (manifest.configSchema && !compileSchema(manifest.configSchema)(config)) return [];
    const secrets: Record<string, string | undefined> = {};
    for (const name of manifest.permissions.secrets) secrets[name] = process.env[name];
    let checks: Record<string, DoctorCheck>;
    try {
      const mod = require(join(dir, manifest.contributes.checks));
      checks = mod.default ?? mod;
    } catch (err: any) {
      return [{ name: `plugin ${entry.id} checks`, status: 'fail', detail: `${manifest.contributes.checks} could not be loaded: ${err.message}`, fix: `fix contributes.checks in ${join(dir, 'plugin.json')}` } as DoctorCheckResult];
    }
    const runs = Object.entries(checks).map(([label, check]) => runOne(label, () => check({ config, secrets, signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) })));
    return (await Promise.all(runs)).flat();
  }));
  return results.flat();
}

async function runOne(label: string, run: () => Promise<DoctorCheckResult | DoctorCheckResult[]>): Promise<DoctorCheckResult[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS); });
  try {
    const result = await Promise.race([run(), timeout]);
    return Array.isArray(result) ? result : [result];
  } catch (err: any) {
    return [{ name: label, status: 'fail', detail: err.message }];
  } finally {
    clearTimeout(timer);
  }
}
