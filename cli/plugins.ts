import { describePermissions, grantFor, grantRefusal } from '../core/plugins/grants';
import { readManifest, type PluginManifest } from '../core/plugins/manifest';
import { installPlugin, type InstalledPlugin } from '../core/plugins/package-install';
import { deleteInstalledFolder } from '../core/plugins/plugin-grant';
import { RegistryFile } from '../core/plugins/registry-file';
import { commandContext, type CommandContext } from './command';
import { CliFailure, UsageError, type Output } from './output';
import { ServerClient, serverAnswers } from './server-client';

export const PLUGINS_USAGE = `usage: plinth plugins list
       plinth plugins add <folder | tarball | package name>
       plinth plugins enable <id> [--grant]
       plinth plugins disable <id>
       plinth plugins reload <id>
       plinth plugins remove <id>

add installs a plugin package into $PLINTH_DATA_DIR/plugins-installed/<id>/ (its dependencies
with scripts disabled), shows what it asks for and adds it to the registry disabled; adding a
newer version upgrades it (hot-reloaded, unless it asks for more than was granted).
enable --grant grants what its manifest asks (network hosts, secrets, …) and enables it.

Talks to the running server (--url / PLINTH_URL, --token / PLINTH_ADMIN_TOKEN); with no server
running, the commands edit the registry and take effect at the next start.
`;

interface PluginRow { id: string; version?: string | null; status: string; enabled: boolean; path: string; error?: { message: string } | null; generation?: number | null }

function statusColour(out: Output, status: string): string {
  const colour = status === 'active' ? 'green' : status === 'error' ? 'red' : status === 'disabled' ? 'dim' : 'yellow';
  return out.paint(colour, status);
}

export async function pluginsCommand(args: string[]): Promise<number> {
  const ctx = commandContext(args, { grant: { type: 'boolean' } }, PLUGINS_USAGE);
  const { out, positionals } = ctx;
  if (ctx.values.help) { out.line(PLUGINS_USAGE); return 0; }
  const [action, id, ...extra] = positionals;
  if (!action || !['list', 'enable', 'disable', 'reload', 'add', 'remove'].includes(action)) throw new UsageError(action ? `unknown action "${action}"` : 'missing action', PLUGINS_USAGE);
  if (action === 'list' ? id !== undefined : !id || extra.length) throw new UsageError(action === 'list' ? 'list takes no argument' : `${action} needs exactly one ${action === 'add' ? 'folder, tarball or package name' : 'plugin id'}`, PLUGINS_USAGE);
  if (ctx.values.grant && action !== 'enable') throw new UsageError('--grant goes with enable', PLUGINS_USAGE);

  const target = ctx.target();
  const up = (await serverAnswers(target.url)).up;
  const client = new ServerClient(target);
  const registry = new RegistryFile(ctx.settings().registryPath);

  if (action === 'list') {
    let rows: PluginRow[];
    if (up) {
      const { items } = await client.request<{ items: any[] }>('GET', '/api/plugins');
      rows = items.map(p => ({ id: p.id, version: p.version, status: p.status, enabled: p.status !== 'disabled', path: p.path, error: p.error, generation: p.generation }));
    } else {
      rows = readRegistry(registry).map(e => ({ id: e.id, status: e.enabled === false ? 'disabled' : 'stopped', enabled: e.enabled !== false, path: e.path }));
    }
    out.result({ ok: true, server: up ? target.url : null, plugins: rows });
    if (!up) out.line(out.paint('dim', `no server at ${target.url}; showing ${registry.file}`));
    out.table([
      ['ID', 'STATUS', 'VERSION', 'PATH'].map(h => out.paint('bold', h)),
      ...rows.map(r => [r.id, statusColour(out, r.status), r.version ?? '', r.path]),
    ]);
    for (const r of rows.filter(r => r.error)) out.hint(`${r.id}: ${r.error!.message}`);
    return 0;
  }

  if (action === 'add') return addPlugin(ctx, id, up ? client : null, registry);
  if (action === 'remove') {
    let removed: { id: string; removed: string };
    if (up) removed = await client.request('DELETE', `/api/plugins/${encodeURIComponent(id)}`);
    else {
      const entry = readRegistry(registry).find(e => e.id === id);
      if (!entry) throw new CliFailure(`plugin "${id}" is not in ${registry.file}`, 'list them with `plinth plugins list`');
      if (!entry.source) throw new CliFailure(`plugin "${id}" was not installed as a package`, `disable it instead: plinth plugins disable ${id}`);
      registry.update(entries => { entries.splice(entries.findIndex(e => e.id === id), 1); });
      deleteInstalledFolder(ctx.settings().dataDir, registry.resolvePath(entry));
      removed = { id, removed: registry.resolvePath(entry) };
    }
    out.result({ ok: true, ...removed });
    out.ok(`${id} removed (${removed.removed})`);
    return 0;
  }

  if (action === 'reload') {
    if (!up) throw new CliFailure(`no server answers at ${target.url}; there is nothing to reload`, 'start it with `plinth start` (or point --url at it)');
    const s = await client.request('POST', `/api/plugins/${encodeURIComponent(id)}/reload`);
    out.result({ ok: s.status === 'active', plugin: s });
    if (s.status !== 'active') {
      out.fail(`${id}: reload failed, the previous generation keeps serving`);
      if (s.error) out.hint(s.error.message);
      return 1;
    }
    out.ok(`${id} reloaded (generation ${s.generation})`);
    return 0;
  }

  const enabled = action === 'enable';
  if (ctx.values.grant) return grantAndEnable(ctx, id, up ? client : null, registry);
  if (up) {
    const s = await client.request('PUT', `/api/plugins/${encodeURIComponent(id)}/toggle`, { enabled });
    const ok = enabled ? s.status === 'active' : s.status === 'disabled';
    out.result({ ok, plugin: s, restartRequired: false });
    if (!ok) {
      out.fail(`${id} is ${s.status}`);
      if (s.error) out.hint(s.error.message);
      return 1;
    }
    out.ok(`${id} ${enabled ? 'enabled' : 'disabled'} on ${target.url}`);
    return 0;
  }
  if (!readRegistry(registry).some(e => e.id === id)) throw new CliFailure(`plugin "${id}" is not in ${registry.file}`, 'list them with `plinth plugins list`; `plinth plugin new` adds one');
  const entry = readRegistry(registry).find(e => e.id === id)!;
  if (enabled) {
    const refusal = grantRefusal(entry, readManifestOrFail(registry.resolvePath(entry), id));
    if (refusal) throw new CliFailure(refusal.message, `plinth plugins enable ${id} --grant`, refusal.toJSON().error);
  }
  registry.update(entries => { entries.find(e => e.id === id)!.enabled = enabled; });
  out.result({ ok: true, plugin: { id, enabled }, restartRequired: true });
  out.ok(`${id} ${enabled ? 'enabled' : 'disabled'} in ${registry.file}`);
  out.hint(`no server is running at ${target.url}: this takes effect at the next \`plinth start\``);
  return 0;
}

function readManifestOrFail(dir: string, id: string) {
  try { return readManifest(dir, id); } catch (err: any) { throw new CliFailure(err.message, 'fix its plugin.json (plinth doctor)', undefined, { cause: err }); }
}

function showRequest(out: Output, manifest: PluginManifest, requested: Record<string, unknown>): void {
  const c = manifest.contributes;
  out.line(`  routes:      ${c.routes.length ? c.routes.map(r => `/api${r}`).join(', ') : `/api/${manifest.id}/*`}`);
  out.line(`  tools:       ${c.tools.join(', ') || 'none declared'}`);
  if (c.ws.length) out.line(`  websockets:  ${c.ws.join(', ')}`);
  out.line(`  permissions: ${Object.keys(requested).length ? describePermissions(requested) : 'none'}`);
}

async function addPlugin(ctx: CommandContext, spec: string, client: ServerClient | null, registry: RegistryFile): Promise<number> {
  const { out } = ctx;
  let added: InstalledPlugin;
  try {
    added = await installPlugin({ spec }, ctx.settings().dataDir, registry);
  } catch (err: any) {
    throw new CliFailure(err.message, 'a plugin package has plugin.json at its root; see docs/plugin-guide.md', undefined, { cause: err });
  }
  const { id, manifest } = added;
  const needsGrant = Object.keys(added.ungranted).length > 0;
  let plugin: any = null;
  if (client && added.previousVersion !== null && added.enabled) {
    // An upgrade of a plugin in service: the kernel reloads it as a transaction; one asking for
    // more than was granted fails there and the old version keeps serving.
    try { plugin = await client.request('POST', `/api/plugins/${encodeURIComponent(id)}/reload`); } catch (err: any) { plugin = { error: { message: err.message } }; }
  }
  const heldBack = !!plugin && plugin.version !== manifest.version;
  out.result({ ok: true, id, version: manifest.version, previousVersion: added.previousVersion, dir: added.dir, source: added.source, requested: added.requested, ungranted: added.ungranted, enabled: added.enabled, plugin, heldBack });
  out.ok(added.previousVersion === null ? `${id} ${manifest.version} installed in ${added.dir} (disabled)` : `${id} ${added.previousVersion} → ${manifest.version} installed in ${added.dir}`);
  showRequest(out, manifest, added.requested);
  if (heldBack) out.warn(`${id} ${manifest.version} is held back: ${plugin.error?.message ?? 'it did not start'}`);
  else if (plugin) out.ok(`${id} ${manifest.version} now serving on ${client!.target.url} (hot-reloaded)`);
  if (needsGrant) out.hint(`it asks for ${describePermissions(added.ungranted)}: plinth plugins enable ${id} --grant`);
  else if (!added.enabled) out.hint(`plinth plugins enable ${id}`);
  return 0;
}

async function grantAndEnable(ctx: CommandContext, id: string, client: ServerClient | null, registry: RegistryFile): Promise<number> {
  const { out } = ctx;
  if (client) {
    const s = await client.request('POST', `/api/plugins/${encodeURIComponent(id)}/grant`, { enable: true });
    out.result({ ok: s.status === 'active', plugin: s });
    if (s.status !== 'active' || s.error) {
      out.fail(`${id} is ${s.status}${s.error ? `: ${s.error.message}` : ''}`);
      return 1;
    }
    out.ok(`${id} ${s.version} granted ${Object.keys(s.grants?.permissions ?? {}).length ? describePermissions(s.grants.permissions) : 'nothing (it asks for nothing)'} and enabled on ${client.target.url}`);
    return 0;
  }
  const entry = readRegistry(registry).find(e => e.id === id);
  if (!entry) throw new CliFailure(`plugin "${id}" is not in ${registry.file}`, 'add it with `plinth plugins add <folder | tarball | package>`');
  if (!entry.source) throw new CliFailure(`plugin "${id}" was not installed as a package; it needs no grant`, `plinth plugins enable ${id}`);
  const dir = registry.resolvePath(entry);
  const manifest = readManifestOrFail(dir, id);
  const grants = grantFor(dir, manifest);
  registry.update(entries => { const e = entries.find(x => x.id === id)!; e.grants = grants; e.enabled = true; });
  out.result({ ok: true, plugin: { id, enabled: true, grants }, restartRequired: true });
  out.ok(`${id} ${manifest.version} granted ${Object.keys(grants.permissions).length ? describePermissions(grants.permissions) : 'nothing (it asks for nothing)'} and enabled in ${registry.file}`);
  out.hint('no server is running: this takes effect at the next `plinth start`');
  return 0;
}

function readRegistry(registry: RegistryFile) {
  try { return registry.read(); } catch (err: any) { throw new CliFailure(err.message, 'fix the file, or run `plinth doctor`', undefined, { cause: err }); }
}
