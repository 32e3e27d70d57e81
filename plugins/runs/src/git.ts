import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { tmpdir } from 'node:os';
import { errors, type User } from 'plinth/sdk';

/**
 * The `git` CLI through execFile (never a shell string): every user-provided value is an argument,
 * and refs coming from users are checked with `check-ref-format` before use.
 */
export interface GitResult { stdout: string; stderr: string; code: number }

/** Git must never prompt (a push to a remote asking for a password would hang the request). */
const BASE_ENV: Record<string, string> = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/tmp',
  LANG: 'C',
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
};

const repoLocks = new Map<string, Promise<unknown>>();

/**
 * One worktree/ref-changing operation per repository at a time in this process: concurrent
 * `git worktree add` in one repo race on `.git/worktrees` ("failed to read …/commondir").
 */
export function withRepoLock<T>(repo: string, fn: () => Promise<T>): Promise<T> {
  const prev = repoLocks.get(repo) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(fn);
  repoLocks.set(repo, next);
  void next.catch(() => undefined).then(() => { if (repoLocks.get(repo) === next) repoLocks.delete(repo); });
  return next;
}

export function runGit(cwd: string, args: string[], env: Record<string, string> = {}): Promise<GitResult> {
  return new Promise(resolve => {
    execFile('git', args, { cwd, env: { ...BASE_ENV, ...env }, maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0;
      resolve({ stdout: String(stdout), stderr: String(stderr), code });
    });
  });
}

/** Runs git and throws a 409 carrying git's message when it fails. */
export async function git(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await runGit(cwd, args, env);
  if (r.code !== 0) throw errors.conflict(`git ${args[0]} failed: ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
  return r.stdout;
}

export function identityEnv(name: string, email: string): Record<string, string> {
  return { GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email };
}

export const PLINTH_IDENTITY = identityEnv('Plinth', 'plinth@localhost');

/** 400 unless `repoPath` is an existing folder with a `.git` (folder, or file for a worktree/submodule). */
/**
 * Runs execute agents against a repository as the kernel's OS user: an admin may register any
 * repository, other users only one under the configured `repoRoots` (symlinks resolved).
 */
export function assertRepoAllowed(repoPath: string, user: User, repoRoots: string[]): void {
  if (user.role === 'admin') return;
  if (!repoRoots.length) throw errors.forbidden('only admins may add repositories here; an admin can allow folders with the runs config repoRoots');
  // A path that does not exist is judged by its name, so that the answer (403) is the same whether
  // or not a folder outside repoRoots exists; symlinks inside a root are followed when it does.
  let real: string;
  try { real = realpathSync(repoPath); } catch { real = resolve(repoPath); }
  const allowed = repoRoots.some(root => {
    let r: string;
    try { r = realpathSync(root); } catch { return false; }
    return real === r || real.startsWith(r.endsWith(sep) ? r : r + sep);
  });
  if (!allowed) throw errors.forbidden(`repo_path ${repoPath} is outside the folders users may register (repoRoots)`);
}

export function assertRepoPath(repoPath: string): void {
  let st;
  try { st = statSync(repoPath); } catch { throw errors.badRequest(`repo_path ${repoPath} does not exist`); }
  if (!st.isDirectory()) throw errors.badRequest(`repo_path ${repoPath} is not a folder`);
  if (!existsSync(join(repoPath, '.git'))) throw errors.badRequest(`repo_path ${repoPath} is not a git repository: it has no .git`);
}

export async function assertBranchName(cwd: string, name: string): Promise<void> {
  if (name.startsWith('-')) throw errors.badRequest(`"${name}" is not a valid branch name`);
  const r = await runGit(cwd, ['check-ref-format', '--branch', name]);
  if (r.code !== 0) throw errors.badRequest(`"${name}" is not a valid branch name`);
}

/** The commit a ref names, or a 400 saying the ref does not exist. */
export async function resolveCommit(cwd: string, ref: string): Promise<string> {
  if (ref.startsWith('-')) throw errors.badRequest(`"${ref}" is not a valid ref`);
  const r = await runGit(cwd, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (r.code !== 0) throw errors.badRequest(`ref "${ref}" does not name a commit in ${cwd}`);
  return r.stdout.trim();
}

export async function currentBranch(cwd: string): Promise<string | null> {
  const r = await runGit(cwd, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  return r.code === 0 ? r.stdout.trim() : null;
}

export async function remotes(cwd: string): Promise<string[]> {
  return (await git(cwd, ['remote'])).split('\n').map(s => s.trim()).filter(Boolean);
}

/** The remote to push to: `origin` when there is one, else the first; 409 when the repo has none. */
export async function pushRemote(cwd: string): Promise<string> {
  const list = await remotes(cwd);
  if (!list.length) throw errors.conflict('the repository has no remote: add one (git remote add origin <url>) to push, open a pull request or accept');
  return list.includes('origin') ? 'origin' : list[0];
}

export interface FileStat { path: string; additions: number; deletions: number; binary: boolean }

/**
 * Diff of a worktree (commits, staged, unstaged and untracked files) against `base`. It goes
 * through a throwaway index so that the worktree's own index is not touched.
 */
export async function worktreeDiff(cwd: string, base: string): Promise<{ diff: string; files: FileStat[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'plinth-diff-'));
  const env = { GIT_INDEX_FILE: join(dir, 'index') };
  try {
    await git(cwd, ['read-tree', 'HEAD'], env);
    await git(cwd, ['add', '-A'], env);
    const diff = await git(cwd, ['diff', '--cached', '--no-color', '--no-ext-diff', '-M', base], env);
    const numstat = await git(cwd, ['diff', '--cached', '--numstat', '-z', '-M', base], env);
    return { diff, files: parseNumstat(numstat) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseNumstat(out: string): FileStat[] {
  const parts = out.split('\0');
  const files: FileStat[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (!p) continue;
    const [a, d, path] = p.split('\t');
    let name = path;
    // A rename is `a\td\t` followed by the old and the new path as their own fields.
    if (path === '') { name = parts[i + 2]; i += 2; }
    files.push({ path: name, additions: a === '-' ? 0 : Number(a), deletions: d === '-' ? 0 : Number(d), binary: a === '-' });
  }
  return files;
}

export async function isDirty(cwd: string): Promise<boolean> {
  return (await git(cwd, ['status', '--porcelain'])).trim().length > 0;
}

/** Commits everything in the worktree; undefined when there was nothing to commit. */
export async function commitAll(cwd: string, message: string, env: Record<string, string>): Promise<string | undefined> {
  if (!(await isDirty(cwd))) return undefined;
  await git(cwd, ['add', '-A']);
  await git(cwd, ['commit', '--no-verify', '-q', '-m', message], env);
  return (await git(cwd, ['rev-parse', 'HEAD'])).trim();
}

export interface WorktreeInfo { path: string; branch: string | null; head: string }

export async function worktrees(cwd: string): Promise<WorktreeInfo[]> {
  const out = await git(cwd, ['worktree', 'list', '--porcelain']);
  const list: WorktreeInfo[] = [];
  for (const block of out.split('\n\n')) {
    const lines = block.split('\n');
    const path = lines.find(l => l.startsWith('worktree '))?.slice(9);
    if (!path) continue;
    const branch = lines.find(l => l.startsWith('branch '))?.slice(7).replace(/^refs\/heads\//, '') ?? null;
    const head = lines.find(l => l.startsWith('HEAD '))?.slice(5) ?? '';
    list.push({ path, branch, head });
  }
  return list;
}

export interface BranchInfo { name: string; commit: string; ahead: number; behind: number; checkedOut: string | null }

export async function branches(cwd: string, against: string): Promise<BranchInfo[]> {
  const out = await git(cwd, ['for-each-ref', 'refs/heads', '--format=%(refname:short)%00%(objectname)']);
  const trees = await worktrees(cwd);
  const list: BranchInfo[] = [];
  for (const line of out.split('\n').filter(Boolean)) {
    const [name, commit] = line.split('\0');
    const counts = (await git(cwd, ['rev-list', '--left-right', '--count', `${against}...${commit}`])).trim().split(/\s+/).map(Number);
    list.push({ name, commit, behind: counts[0], ahead: counts[1], checkedOut: trees.find(t => t.branch === name)?.path ?? null });
  }
  return list;
}

/**
 * Runs a merge or rebase that updates `branch`: in the worktree that has it checked out (which
 * must be clean), else in a throwaway detached worktree whose result moves the ref. A conflict
 * aborts the operation and answers 409 with the conflicting files, leaving everything clean.
 */
export async function updateBranch(repo: string, branch: string, op: 'merge' | 'rebase', other: string, env: Record<string, string>): Promise<{ commit: string }> {
  const checked = (await worktrees(repo)).find(t => t.branch === branch);
  let dir: string;
  let temp: string | undefined;
  if (checked) {
    if (!existsSync(checked.path)) throw errors.conflict(`branch ${branch} is checked out at ${checked.path}, which is missing`);
    if (await isDirty(checked.path)) throw errors.conflict(`branch ${branch} is checked out at ${checked.path} with uncommitted changes: commit or revert them first`);
    dir = checked.path;
  } else {
    temp = mkdtempSync(join(tmpdir(), 'plinth-merge-'));
    dir = join(temp, 'wt');
    await git(repo, ['worktree', 'add', '--detach', '-q', dir, `refs/heads/${branch}`]);
  }
  try {
    const before = (await git(dir, ['rev-parse', 'HEAD'])).trim();
    const args = op === 'merge' ? ['merge', '--no-ff', '--no-edit', other] : ['rebase', other];
    const r = await runGit(dir, args, env);
    if (r.code !== 0) {
      const conflicts = (await runGit(dir, ['diff', '--name-only', '--diff-filter=U'])).stdout.split('\n').filter(Boolean);
      await runGit(dir, [op, '--abort']);
      throw errors.conflict(`${op} of ${other} ${op === 'merge' ? 'into' : 'under'} ${branch} has conflicts; nothing was changed`, { conflicts, output: (r.stdout + r.stderr).trim().slice(0, 2000) });
    }
    const after = (await git(dir, ['rev-parse', 'HEAD'])).trim();
    if (temp) await git(repo, ['update-ref', `refs/heads/${branch}`, after, before]);
    return { commit: after };
  } finally {
    if (temp) {
      await runGit(repo, ['worktree', 'remove', '--force', dir]);
      rmSync(temp, { recursive: true, force: true });
    }
  }
}
