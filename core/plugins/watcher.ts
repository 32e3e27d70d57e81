import { watch, type FSWatcher } from 'chokidar';
import { sep } from 'node:path';
import type { Logger } from '../../sdk';
import type { PluginHost } from './plugin-host';

const DEBOUNCE_MS = 25;

/**
 * Reloads a plugin when its files change: debounced, and skipped when the content hash of what
 * the plugin actually loaded is unchanged (editors touch files without changing them).
 */
export function watchPlugins(host: PluginHost, log: Logger): { close(): Promise<void> } {
  const dirs = new Map<string, string>();
  for (const s of host.plugins.values()) dirs.set(s.dir.endsWith(sep) ? s.dir : s.dir + sep, s.id);
  const timers = new Map<string, NodeJS.Timeout>();
  const watcher: FSWatcher = watch([...dirs.keys()], {
    ignoreInitial: true,
    ignored: (p: string) => /[\\/](node_modules|\.git|test|data)([\\/]|$)/.test(p),
  });
  watcher.on('all', (_event, file) => {
    let owner: string | undefined;
    let best = 0;
    for (const [dir, id] of dirs) if (file.startsWith(dir) && dir.length > best) { owner = id; best = dir.length; }
    if (!owner) return;
    const id = owner;
    clearTimeout(timers.get(id));
    timers.set(id, setTimeout(() => {
      timers.delete(id);
      if (!host.hasChanged(id)) return;
      log.info('plugin files changed; reloading', { plugin: id, file });
      host.reload(id, 'watch').catch(err => log.error('reload failed', { plugin: id, err }));
    }, DEBOUNCE_MS));
  });
  watcher.on('error', err => log.warn('file watcher error', { err }));
  return {
    close: async () => {
      for (const t of timers.values()) clearTimeout(t);
      await watcher.close();
    },
  };
}
