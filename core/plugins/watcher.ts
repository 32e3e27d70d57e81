import { watch, type FSWatcher } from 'chokidar';
import { sep } from 'node:path';
import type { Logger } from '../../sdk';
import type { PluginHost } from './plugin-host';

const DEBOUNCE_MS = 25;
/** chokidar drops a second `change` of one file within 50 ms, so we look once more after that. */
const RECHECK_MS = 80;

/**
 * Reloads a plugin when its files change: debounced, and skipped when the content hash of what
 * the plugin actually loaded is unchanged (editors touch files without changing them).
 */
export async function watchPlugins(host: PluginHost, log: Logger): Promise<{ close(): Promise<void> }> {
  const dirs = new Map<string, string>();
  for (const s of host.plugins.values()) dirs.set(s.dir.endsWith(sep) ? s.dir : s.dir + sep, s.id);
  const timers = new Map<string, NodeJS.Timeout>();
  let closed = false;

  const check = async (id: string, file: string, recheck: boolean) => {
    timers.delete(id);
    if (closed) return;
    if (host.hasChanged(id)) {
      log.info('plugin files changed; reloading', { plugin: id, file });
      await host.reload(id, 'watch').catch(err => log.error('reload failed', { plugin: id, err }));
    }
    if (recheck && !closed && !timers.has(id)) schedule(id, file, RECHECK_MS, false);
  };
  const schedule = (id: string, file: string, ms: number, recheck: boolean) => {
    clearTimeout(timers.get(id));
    const t = setTimeout(() => void check(id, file, recheck), ms);
    t.unref();
    timers.set(id, t);
  };

  const watcher: FSWatcher = watch([...dirs.keys()], {
    ignoreInitial: true,
    // Judged inside each plugin folder, so a checkout under some /data/ or /test/ still reloads.
    ignored: (p: string) => {
      const dir = [...dirs.keys()].find(d => p.startsWith(d));
      return !!dir && /(^|[\\/])(node_modules|\.git|test|data|dist)([\\/]|$)/.test(p.slice(dir.length));
    },
  });
  watcher.on('all', (_event, file) => {
    let owner: string | undefined;
    let best = 0;
    for (const [dir, id] of dirs) if (file.startsWith(dir) && dir.length > best) { owner = id; best = dir.length; }
    if (owner) schedule(owner, file, DEBOUNCE_MS, true);
  });
  watcher.on('error', err => log.warn('file watcher error', { err }));
  // Changes made before the initial scan finishes would be missed.
  await new Promise<void>(resolve => watcher.once('ready', () => resolve()));
  return {
    close: async () => {
      closed = true;
      for (const t of timers.values()) clearTimeout(t);
      await watcher.close();
    },
  };
}
