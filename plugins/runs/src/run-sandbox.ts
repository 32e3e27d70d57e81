import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { sandboxFor, type AuthService, type SandboxedCommand, type SandboxMode, type SandboxPolicy, type SandboxService } from 'plinth/sdk';
import type { RunRepoRow, RunRow } from './run-store';

/** The provider hosts each built-in CLI reaches by default; an admin overrides them per adapter (config adapterHosts). */
export const DEFAULT_ADAPTER_HOSTS: Record<string, string[]> = {
  'claude-code': ['api.anthropic.com', 'statsig.anthropic.com', 'sentry.io'],
  codex: ['api.openai.com', 'chatgpt.com', 'auth.openai.com'],
  command: [],
};

/**
 * What a run's CLI may touch inside the sandbox: the run's folder (its worktrees) and the git
 * metadata a worktree keeps in the main repository — `.git/worktrees/<name>` (its HEAD and index),
 * `objects`, and the refs and reflogs of the runs' branches (`refs/heads/plinth/`, where a commit
 * on its branch writes) — writable; the repository readable. The rest of `.git` (config, hooks,
 * other branches) stays read-only, and so does each worktree's `.git` file: the kernel runs git in
 * the worktree after the CLI, and a `.git` pointing at a crafted git dir (its config naming an
 * fsmonitor or a pager) would make the kernel run the CLI's commands outside the sandbox. The
 * network: the adapter's hosts and the kernel's hook endpoint only.
 */
export function runSandboxPolicy(input: { runDir: string; repos: RunRepoRow[]; hosts: string[]; hookUrl: string }): SandboxPolicy {
  const writable = new Set<string>([input.runDir]);
  const readable = new Set<string>();
  const readOnly: string[] = [];
  for (const r of input.repos) {
    readable.add(r.repo_path);
    readOnly.push(join(r.worktree, '.git'));
    const gitdir = worktreeGitDir(r.worktree);
    if (gitdir) writable.add(gitdir);
    const common = commonDir(gitdir) ?? join(r.repo_path, '.git');
    for (const sub of ['objects', 'refs/heads/plinth', 'logs/refs/heads/plinth']) writable.add(join(common, sub));
  }
  const hook = new URL(input.hookUrl);
  const hookHost = `${hook.hostname}:${hook.port || (hook.protocol === 'https:' ? 443 : 80)}`;
  return {
    writable: [...writable].filter(p => existsSync(p)),
    readable: [...readable],
    readOnly,
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

export interface SandboxDeps { auth: AuthService; sandbox: SandboxService | undefined; sandboxMode: SandboxMode; adapterHosts: Record<string, string[]> }

/** The CLI inside the kernel's sandbox (policy above), or as it is where the mode or an admin owner allows. */
export async function sandboxedCommand(d: SandboxDeps, runDir: string, run: RunRow, repos: RunRepoRow[], cmd: { file: string; args: string[] }, env: Record<string, string>, hookUrl: string, hosts: string[] | undefined): Promise<SandboxedCommand> {
  const owner = await d.auth.getUser(run.owner);
  const sandbox = await sandboxFor(d.sandbox, d.sandboxMode, owner?.role === 'admin');
  if (!sandbox) return { file: cmd.file, args: cmd.args, env, release() {} };
  const policy = runSandboxPolicy({ runDir, repos, hookUrl, hosts: d.adapterHosts[run.adapter] ?? hosts ?? DEFAULT_ADAPTER_HOSTS[run.adapter] ?? [] });
  // $HOME is hidden in the sandbox: the CLI gets the run's folder instead; its hooks use the proxy.
  // The program an admin configured stays runnable even where it lives in a hidden folder.
  if (isAbsolute(cmd.file)) policy.readable = [...policy.readable ?? [], cmd.file];
  return sandbox.wrap({ file: cmd.file, args: cmd.args, cwd: run.cwd, env: { ...env, HOME: runDir, PLINTH_NO_PROXY: '' }, ...policy });
}