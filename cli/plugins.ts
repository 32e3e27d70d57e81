import { RegistryFile } from '../core/plugins/registry-file';
import { commandContext } from './command';
import { CliFailure, UsageError, type Output } from './output';
import { ServerClient, serverAnswers } from './server-client';

export const PLUGINS_USAGE = `usage: plinth plugins list
       plinth plugins enable <id>
       plinth plugins disable <id>
       plinth plugins reload <id>

Talks to the running server (--url / PLINTH_URL, --token / PLINTH_ADMIN_TOKEN); with no server
running, enable and disable edit plugin-registry.json and take effect at the next start.
`;

interface PluginRow { id: string; version?: string | null; status: string; enabled: boolean; path: string; error?: { message: string } | null; generation?: number | null }

function statusColour(out: Output, status: string): string {
  const colour = status === 'active' ? 'green' : status === 'error' ? 'red' : status === 'disabled' ? 'dim' : 'yellow';
  return out.paint(colour, status);
}

export async function pluginsCommand(args: string[]): Promise<number> {
  const ctx = commandContext(args, {}, PLUGINS_USAGE);
  const { out, positionals } = ctx;
  if (ctx.values.help) { out.line(PLUGINS_USAGE); return 0; }
  const [action, id, ...extra] = positionals;
  if (!action || !['list', 'enable', 'disable', 'reload'].includes(action)) throw new UsageError(action ? `unknown action "${action}"` : 'missing action', PLUGINS_USAGE);
  if (action === 'list' ? id !== undefined : !id || extra.length) throw new UsageError(action === 'list' ? 'list takes no argument' : `${action} needs exactly one plugin id`, PLUGINS_USAGE);

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
  registry.update(entries => { entries.find(e => e.id === id)!.enabled = enabled; });
  out.result({ ok: true, plugin: { id, enabled }, restartRequired: true });
  out.ok(`${id} ${enabled ? 'enabled' : 'disabled'} in ${registry.file}`);
  out.hint(`no server is running at ${target.url}: this takes effect at the next \`plinth start\``);
  return 0;
}

function readRegistry(registry: RegistryFile) {
  try { return registry.read(); } catch (err: any) { throw new CliFailure(err.message, 'fix the file, or run `plinth doctor`', undefined, { cause: err }); }
}
