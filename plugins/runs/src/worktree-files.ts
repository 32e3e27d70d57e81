import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runGit, withRepoLock } from './git';

export async function removeWorktrees(repos: Array<{ repo_path: string; worktree: string }>, branch: string): Promise<void> {
  for (const r of repos) {
    await withRepoLock(r.repo_path, async () => {
      await runGit(r.repo_path, ['worktree', 'remove', '--force', r.worktree]);
      await runGit(r.repo_path, ['worktree', 'prune']);
      await runGit(r.repo_path, ['branch', '-D', branch]);
    });
  }
}

/** Files git does not track yet (what a CLI's hook setup added). */
export async function untracked(cwd: string): Promise<string[]> {
  const r = await runGit(cwd, ['ls-files', '--others', '--exclude-standard']);
  return r.stdout.split('\n').filter(Boolean);
}

/** Hook files stay out of diffs and commits: the repository's local exclude file (never committed). */
export function excludeFiles(worktree: string, files: string[]): void {
  const gitFile = join(worktree, '.git');
  let common: string;
  try {
    const gitdir = readFileSync(gitFile, 'utf8').trim().replace(/^gitdir: /, '');
    common = join(gitdir, '..', '..');
  } catch { common = gitFile; }
  const file = join(common, 'info', 'exclude');
  mkdirSync(join(common, 'info'), { recursive: true });
  let existing = '';
  try { existing = readFileSync(file, 'utf8'); } catch { /* none */ }
  const lines = files.map(f => '/' + f).filter(l => !existing.split('\n').includes(l));
  if (lines.length) appendFileSync(file, (existing && !existing.endsWith('\n') ? '\n' : '') + lines.join('\n') + '\n');
}
