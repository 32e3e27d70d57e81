import { lstat, readFile, readdir, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { errors } from 'plinth/sdk';

export interface WorkspaceEntry { path: string; type: 'file' | 'dir' | 'symlink' | 'other'; size: number; modifiedAt: string }

const MAX_DEPTH = 8;

/** The branch and commit a `.git` folder points at, read from its files (no git process is started). */
async function gitState(root: string): Promise<{ branch: string | null; head: string | null } | null> {
  const git = join(root, '.git');
  let head: string;
  try { head = (await readFile(join(git, 'HEAD'), 'utf8')).trim(); } catch { return null; }
  const ref = /^ref: (refs\/heads\/(.+))$/.exec(head);
  if (!ref) return { branch: null, head: /^[0-9a-f]{40,64}$/.test(head) ? head : null };
  const loose = await readFile(join(git, ref[1]), 'utf8').then(t => t.trim(), () => null);
  const packed = loose ?? (await readFile(join(git, 'packed-refs'), 'utf8').catch(() => '')).split('\n').find(l => l.endsWith(` ${ref[1]}`))?.split(' ')[0] ?? null;
  return { branch: ref[2], head: packed };
}

/**
 * The agent runtime's workspace folder: its files (relative paths, sizes, times; symlinks listed,
 * never followed; `.git` summarised, not listed) and its state. `sub` narrows the listing to a
 * folder inside it; a path leading out is refused.
 */
export async function workspaceState(root: string, sub: string | undefined, maxEntries: number) {
  if (sub && (isAbsolute(sub) || sub.split(/[\\/]/).includes('..'))) throw errors.validation(`path "${sub}" leads out of the workspace`, [{ field: 'query/path', message: 'must stay inside the workspace' }]);
  const realRoot = await realpath(root).catch(() => null);
  if (!realRoot) return { root, exists: false, path: sub ?? '', files: [], totals: { files: 0, dirs: 0, bytes: 0 }, lastModifiedAt: null, truncated: false, git: null };
  const start = join(realRoot, sub ?? '');
  const realStart = await realpath(start).catch(() => null);
  if (!realStart || (realStart !== realRoot && !realStart.startsWith(realRoot + sep))) throw errors.notFound(`folder "${sub}" in the workspace`);
  const files: WorkspaceEntry[] = [];
  const totals = { files: 0, dirs: 0, bytes: 0 };
  let last = 0;
  let truncated = false;
  const walk = async (dir: string, depth: number): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      if (name === '.git' && dir === realRoot) continue;
      if (files.length >= maxEntries) { truncated = true; return; }
      const full = join(dir, name);
      const st = await lstat(full).catch(() => null);
      if (!st) continue;
      const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
      files.push({ path: relative(realRoot, full).split(sep).join('/'), type, size: type === 'file' ? st.size : 0, modifiedAt: st.mtime.toISOString() });
      last = Math.max(last, st.mtimeMs);
      if (type === 'dir') { totals.dirs++; if (depth < MAX_DEPTH) await walk(full, depth + 1); else truncated = true; }
      if (type === 'file') { totals.files++; totals.bytes += st.size; }
    }
  };
  await walk(realStart, 1);
  return { root, exists: true, path: sub ?? '', files, totals, lastModifiedAt: last ? new Date(last).toISOString() : null, truncated, git: await gitState(realRoot) };
}
