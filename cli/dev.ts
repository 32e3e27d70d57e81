import { randomBytes, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readManifest } from '../core/plugins/manifest';
import { settingsFromEnv } from '../core/process-settings';
import { ROOT_DIR } from '../core/version';
import { commandContext } from './command';
import { CliFailure, UsageError } from './output';
import { serve } from './start';

export const DEV_USAGE = `usage: plinth dev [<plugin folder>] [--port <port>] [--only]

Inside a plugin's folder (one with plugin.json): starts a kernel with that plugin loaded and
hot-reloading on every edit, beside Plinth's first-party plugins (--only: that plugin alone).
Prints the URL and an admin token. Its data lives in a temporary folder (PLINTH_DATA_DIR to choose).
`;

export async function devCommand(args: string[]): Promise<number> {
  const ctx = commandContext(args, { port: { type: 'string' }, only: { type: 'boolean' } }, DEV_USAGE);
  const { out, values, positionals } = ctx;
  if (values.help) { out.line(DEV_USAGE); return 0; }
  if (positionals.length > 1) throw new UsageError('dev takes at most one folder', DEV_USAGE);
  const dir = resolve(positionals[0] ?? process.cwd());
  if (!existsSync(join(dir, 'plugin.json'))) throw new CliFailure(`no plugin.json in ${dir}`, 'run it inside a plugin folder (plinth plugin new <name> --dir <folder> makes one)');
  let id: string;
  try { id = readManifest(dir).id; } catch (err: any) { throw new CliFailure(err.message, 'fix plugin.json', undefined, { cause: err }); }

  const dataDir = process.env.PLINTH_DATA_DIR ? resolve(process.env.PLINTH_DATA_DIR) : join(tmpdir(), `plinth-dev-${id}-${createHash('sha1').update(dir).digest('hex').slice(0, 8)}`);
  mkdirSync(dataDir, { recursive: true });
  // The author's own code, in the author's process: in-process, with no grant to give.
  let plugins: Array<Record<string, unknown>> = [];
  if (!values.only) {
    try {
      plugins = (JSON.parse(readFileSync(join(ROOT_DIR, 'plugin-registry.json'), 'utf8')).plugins as Array<{ id: string; path: string }>)
        .filter(p => p.id !== id).map(p => ({ ...p, path: resolve(ROOT_DIR, p.path) }));
    } catch { /* no first-party plugins */ }
  }
  plugins.push({ id, path: dir, enabled: true, config: {}, isolation: 'in-process' });
  const registryPath = join(dataDir, 'plugin-registry.json');
  writeFileSync(registryPath, JSON.stringify({ plugins }, null, 2) + '\n');

  const adminToken = process.env.PLINTH_ADMIN_TOKEN || randomBytes(24).toString('base64url');
  let settings;
  try {
    settings = settingsFromEnv({ ...process.env, PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registryPath, PLINTH_ADMIN_TOKEN: adminToken, PLINTH_WATCH: '1', PLINTH_PORT: values.port ?? process.env.PLINTH_PORT ?? '7700' });
  } catch (err: any) { throw new UsageError(err.message, DEV_USAGE, { cause: err }); }
  return serve(settings, kernel => {
    const state = kernel.host.plugins.get(id);
    process.stdout.write(`plinth dev: ${id} ${state?.status ?? 'missing'}${state?.error ? ` (${state.error.message})` : ''}, hot-reloading ${dir}\n`);
    process.stdout.write(`listening on ${kernel.baseUrl}\n`);
    process.stdout.write(`admin token: ${adminToken}\n`);
    process.stdout.write(`try: curl -H "authorization: Bearer ${adminToken}" ${kernel.baseUrl}/api/plugins/${id}\n`);
  });
}
