import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { kernelErrors } from '../../sdk';
import { requestedPermissions, ungranted } from './grants';
import { readManifest, type PluginManifest } from './manifest';
import { installedPluginsDir } from './plugin-grant';
import type { PluginSource, RegistryEntry, RegistryFile } from './registry-file';

/**
 * What to install: a folder, a .tgz or an npm spec as the CLI names it (`spec`); an npm spec
 * that is only ever resolved from the registry (`npm`, what the HTTP API accepts); or the bytes
 * of an uploaded tarball (`tarball`).
 */
export type PackageInput = { spec: string } | { npm: string } | { tarball: Buffer };

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

/** A package unpacked and checked in a staging folder, not yet in place. */
export interface PreparedPackage {
  staging: string;
  pkgDir: string;
  manifest: PluginManifest;
  source: Omit<PluginSource, 'version' | 'installedAt'>;
}

/** A package name with an optional version, range or tag: nothing npm would read as a path, URL or git remote. */
const REGISTRY_SPEC = /^(@[a-z0-9][\w.~-]*\/)?[a-z0-9][\w.~-]*(@[\w.^~<>=*|+ -]{1,100})?$/i;

function installError(step: string, message: string): Error {
  return kernelErrors.error('PLINTH_ERR_PLUGIN_INSTALL', `${step}: ${message}`);
}

/** Asynchronous, so that a kernel installing over HTTP keeps serving meanwhile. */
function run(cmd: string, args: string[], cwd: string, step: string): Promise<string> {
  return new Promise((res, rej) => {
    execFile(cmd, args, { cwd, encoding: 'utf8', timeout: 5 * 60_000, maxBuffer: 16 << 20, env: { ...process.env, npm_config_update_notifier: 'false' } }, (err, stdout, stderr) => {
      if (err) rej(installError(step, `\`${cmd} ${args.join(' ')}\` failed: ${(stderr || err.message).trim().split('\n').slice(-5).join(' ')}`));
      else res(stdout);
    });
  });
}

/** npm as the kernel's own Node runs it (npm_execpath under npm/npx, else `npm` from PATH). */
function npm(args: string[], cwd: string, step: string): Promise<string> {
  const cli = process.env.npm_execpath;
  return cli && cli.endsWith('.js') ? run(process.execPath, [cli, ...args], cwd, step) : run('npm', args, cwd, step);
}

/** The input as a tarball in `staging` (npm pack, scripts off). */
async function fetchTarball(input: PackageInput, staging: string): Promise<{ tarball: string; kind: PluginSource['kind']; spec: string }> {
  if ('tarball' in input) {
    const file = join(staging, 'upload.tgz');
    writeFileSync(file, input.tarball);
    return { tarball: file, kind: 'tarball', spec: `upload sha256:${createHash('sha256').update(input.tarball).digest('hex')}` };
  }
  let kind: PluginSource['kind'] = 'npm';
  let what: string;
  if ('npm' in input) {
    if (!REGISTRY_SPEC.test(input.npm)) throw installError('fetch', `"${input.npm}" is not a package name from the registry (name, name@version or @scope/name@range)`);
    what = input.npm;
  } else {
    const local = resolve(input.spec);
    if (existsSync(local) && statSync(local).isFile()) return { tarball: local, kind: 'tarball', spec: local };
    if (existsSync(local)) kind = 'folder';
    what = kind === 'folder' ? local : input.spec;
  }
  await npm(['pack', what, '--ignore-scripts', '--pack-destination', staging], staging, 'fetch');
  const filename = readdirSync(staging).find(f => f.endsWith('.tgz'));
  if (!filename) throw installError('fetch', `npm pack ${what} gave no tarball`);
  return { tarball: join(staging, filename), kind, spec: what };
}

/**
 * The slow half of `plugins add`, which changes nothing in the deployment: fetch, unpack, check
 * the manifest, install its dependencies (scripts disabled) — all in a staging folder that
 * `installPrepared` moves into place or `discardPrepared` deletes.
 */
export async function preparePackage(input: PackageInput, dataDir: string, registry: RegistryFile): Promise<PreparedPackage> {
  const root = installedPluginsDir(dataDir);
  mkdirSync(root, { recursive: true });
  const staging = await mkdtemp(join(root, '.staging-'));
  try {
    const fetched = await fetchTarball(input, staging);
    const unpacked = join(staging, 'unpacked');
    mkdirSync(unpacked);
    await run('tar', ['-xzf', fetched.tarball, '-C', unpacked, '--no-same-owner', '--no-same-permissions'], staging, 'unpack');
    const pkgDir = join(unpacked, readdirSync(unpacked)[0] ?? 'package');
    if (!existsSync(join(pkgDir, 'package.json'))) throw installError('unpack', 'the tarball holds no package (package/package.json)');
    const manifest = readManifest(pkgDir);
    const existing = registry.read().find(e => e.id === manifest.id);
    if (existing && !existing.source) throw installError('registry', `"${manifest.id}" is already in ${registry.file} as a plugin not installed from a package (${existing.path}); rename the plugin`);

    let pkg: { dependencies?: Record<string, string> };
    try {
      pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    } catch (err) {
      throw installError('unpack', `the package's package.json is not JSON: ${(err as Error).message}`);
    }
    if (Object.keys(pkg.dependencies ?? {}).length) {
      // Its own dependencies only: no install scripts, no dev dependencies, and not its `plinth`
      // peer (the kernel resolves `plinth/*` to itself, core/plugins/module-loader.ts).
      await npm(['install', '--ignore-scripts', '--omit=dev', '--omit=peer', '--legacy-peer-deps', '--no-audit', '--no-fund', '--no-package-lock'], pkgDir, 'npm install');
    }
    return { staging, pkgDir, manifest, source: { kind: fetched.kind, spec: fetched.spec } };
  } catch (err) {
    discardPrepared({ staging });
    throw err;
  }
}

export function discardPrepared(p: Pick<PreparedPackage, 'staging'>): void {
  rmSync(p.staging, { recursive: true, force: true });
}

/**
 * The quick half: into `$PLINTH_DATA_DIR/plugins-installed/<id>/` (never the kernel's
 * node_modules). A new plugin enters the registry disabled and sandboxed; an upgrade keeps its
 * entry (enabled, config, grants) with the new source.
 */
export function installPrepared(p: PreparedPackage, dataDir: string, registry: RegistryFile): InstalledPlugin {
  try {
    const { manifest } = p;
    const dir = join(installedPluginsDir(dataDir), manifest.id);
    let previousVersion: string | null = null;
    if (existsSync(dir)) {
      try { previousVersion = readManifest(dir).version; } catch { /* a broken copy is replaced */ }
      // In place, so that the folder a running kernel watches stays the same folder.
      for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
    }
    cpSync(p.pkgDir, dir, { recursive: true });

    const source: PluginSource = { ...p.source, version: manifest.version, installedAt: new Date().toISOString() };
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
    discardPrepared(p);
  }
}

/** `plinth plugins add` with no kernel in between: prepare, then put in place. */
export async function installPlugin(input: PackageInput, dataDir: string, registry: RegistryFile): Promise<InstalledPlugin> {
  return installPrepared(await preparePackage(input, dataDir, registry), dataDir, registry);
}
