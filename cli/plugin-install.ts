import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { kernelErrors } from '../sdk';
import { requestedPermissions, ungranted } from '../core/plugins/grants';
import { readManifest, type PluginManifest } from '../core/plugins/manifest';
import { installedPluginsDir } from '../core/plugins/plugin-grant';
import type { PluginSource, RegistryEntry, RegistryFile } from '../core/plugins/registry-file';

export interface InstalledPlugin {
  id: string;
  dir: string;
  manifest: PluginManifest;
  source: PluginSource;
  /** The version it replaced, when this was an upgrade. */
  previousVersion: string | null;
  enabled: boolean;
  requested: Record<string, unknown>;
  /** What it asks beyond the current grant (everything, for a new plugin). */
  ungranted: Record<string, unknown>;
}

function installError(step: string, message: string): Error {
  return kernelErrors.error('PLINTH_ERR_PLUGIN_INSTALL', `${step}: ${message}`);
}

function run(cmd: string, args: string[], cwd: string, step: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 5 * 60_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (r.error || r.status !== 0) throw installError(step, `\`${cmd} ${args.join(' ')}\` failed: ${(r.error?.message ?? r.stderr ?? '').trim().split('\n').slice(-5).join(' ')}`);
  return r.stdout;
}

/** npm as the kernel's own Node runs it (npm_execpath under npm/npx, else `npm` from PATH). */
function npm(args: string[], cwd: string, step: string): string {
  const cli = process.env.npm_execpath;
  return cli && cli.endsWith('.js') ? run(process.execPath, [cli, ...args], cwd, step) : run('npm', args, cwd, step);
}

/** A folder, a .tgz or an npm spec, as a tarball in `staging` (npm pack, scripts off). */
function fetchTarball(spec: string, staging: string): { tarball: string; kind: PluginSource['kind']; spec: string } {
  const local = resolve(spec);
  if (existsSync(local) && statSync(local).isFile()) return { tarball: local, kind: 'tarball', spec: local };
  const kind = existsSync(local) ? 'folder' : 'npm';
  const what = kind === 'folder' ? local : spec;
  npm(['pack', what, '--ignore-scripts', '--pack-destination', staging], staging, 'fetch');
  const filename = readdirSync(staging).find(f => f.endsWith('.tgz'));
  if (!filename) throw installError('fetch', `npm pack ${what} gave no tarball`);
  return { tarball: join(staging, filename), kind, spec: what };
}

/**
 * `plinth plugins add`: a package into `$PLINTH_DATA_DIR/plugins-installed/<id>/` (never the
 * kernel's node_modules), its dependencies installed with scripts disabled, its manifest checked
 * before anything is replaced. A new plugin enters the registry disabled and sandboxed; an upgrade
 * keeps its entry (enabled, config, grants) with the new source.
 */
export function installPlugin(spec: string, dataDir: string, registry: RegistryFile): InstalledPlugin {
  const root = installedPluginsDir(dataDir);
  mkdirSync(root, { recursive: true });
  const staging = mkdtempSync(join(root, '.staging-'));
  try {
    const fetched = fetchTarball(spec, staging);
    const unpacked = join(staging, 'unpacked');
    mkdirSync(unpacked);
    run('tar', ['-xzf', fetched.tarball, '-C', unpacked], staging, 'unpack');
    const pkgDir = join(unpacked, readdirSync(unpacked)[0] ?? 'package');
    const manifest = readManifest(pkgDir);
    const entries = registry.read();
    const existing = entries.find(e => e.id === manifest.id);
    if (existing && !existing.source) throw installError('registry', `"${manifest.id}" is already in ${registry.file} as a plugin not installed from a package (${existing.path}); rename the plugin`);

    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    if (Object.keys(pkg.dependencies ?? {}).length) {
      // Its own dependencies only: no install scripts, no dev dependencies, and not its `plinth`
      // peer (the kernel resolves `plinth/*` to itself, core/plugins/module-loader.ts).
      npm(['install', '--ignore-scripts', '--omit=dev', '--omit=peer', '--legacy-peer-deps', '--no-audit', '--no-fund', '--no-package-lock'], pkgDir, 'npm install');
    }

    const dir = join(root, manifest.id);
    let previousVersion: string | null = null;
    if (existsSync(dir)) {
      try { previousVersion = readManifest(dir).version; } catch { /* a broken copy is replaced */ }
      // In place, so that the folder a running kernel watches stays the same folder.
      for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
    }
    cpSync(pkgDir, dir, { recursive: true });

    const source: PluginSource = { kind: fetched.kind, spec: fetched.spec, version: manifest.version, installedAt: new Date().toISOString() };
    let entry!: RegistryEntry;
    registry.update(list => {
      const e = list.find(x => x.id === manifest.id);
      if (e) { e.source = source; e.path = dir; entry = e; return; }
      entry = { id: manifest.id, path: dir, enabled: false, config: {}, isolation: 'sandbox', source };
      list.push(entry);
    });
    const requested = requestedPermissions(manifest);
    return { id: manifest.id, dir, manifest, source, previousVersion, enabled: entry.enabled !== false, requested, ungranted: ungranted(requested, entry.grants?.permissions) };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
