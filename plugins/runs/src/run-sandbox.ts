import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { SandboxPolicy } from 'plinth/sdk';
import type { RunRepoRow } from './store';

/** The provider hosts each built-in CLI reaches by default; an admin overrides them per adapter (config adapterHosts). */
export const DEFAULT_ADAPTER_HOSTS: Record<string, string[]> = {
  'claude-code': ['api.anthropic.com', 'statsig.anthropic.com', 'sentry.io'],
  codex: ['api.openai.com', 'chatgpt.com', 'auth.openai.com'],
  command: [],
};

/**
 * What a run's CLI may touch inside the sandbox: the run's folder (its worktrees) and the git
 * metadata a worktree keeps in the main repository — `.git/worktrees/<name>` (its HEAD and index),
 * `objects`, `refs` and `logs` (a commit writes there) — writable; the repository readable (the
 * rest of `.git`, config and hooks included, stays read-only, so the CLI cannot plant a hook that
 * the kernel's own git would run); and the network for the adapter's hosts plus the kernel's hook
 * endpoint only.
 */
export function runSandboxPolicy(input: { runDir: string; repos: RunRepoRow[]; hosts: string[]; hookUrl: string }): SandboxPolicy {
  const writable = new Set<string>([input.runDir]);
  const readable = new Set<string>();
  for (const r of input.repos) {
    readable.add(r.repo_path);
    const gitdir = worktreeGitDir(r.worktree);
    if (gitdir) writable.add(gitdir);
    const common = commonDir(gitdir) ?? join(r.repo_path, '.git');
    for (const sub of ['objects', 'refs', 'logs']) writable.add(join(common, sub));
  }
  const hook = new URL(input.hookUrl);
  const hookHost = `${hook.hostname}:${hook.port || (hook.protocol === 'https:' ? 443 : 80)}`;
  return {
    writable: [...writable].filter(p => existsSync(p)),
    readable: [...readable],
    allowedHosts: [...new Set([...input.hosts, hookHost])],
  };
}

/** `<worktree>/.git` is a file `gitdir: <main>/.git/worktrees/<name>`. */
function worktreeGitDir(worktree: string): string | undefined {
  try {
    const line = readFileSync(join(worktree, '.git'), 'utf8').trim();
    if (!line.startsWith('gitdir: ')) return undefined;
    const p = line.slice(8);
    return isAbsolute(p) ? p : resolve(worktree, p);
  } catch { return undefined; }
}

function commonDir(gitdir: string | undefined): string | undefined {
  if (!gitdir) return undefined;
  try {
    const p = readFileSync(join(gitdir, 'commondir'), 'utf8').trim();
    return isAbsolute(p) ? p : resolve(gitdir, p);
  } catch { return undefined; }
}
