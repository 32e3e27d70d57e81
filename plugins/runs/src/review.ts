import { existsSync } from 'node:fs';
import { errors, type User } from 'plinth/sdk';
import {
  assertBranchName, branches, commitAll, git, identityEnv, pushRemote, runGit, updateBranch, worktreeDiff,
} from './git';
import type { GitHubForge } from './forge';
import { ACTIVE, type RunRepoRow, type RunRow, type RunStore } from './run-store';

const userIdentity = (user: User) => identityEnv(user.name || user.email.split('@')[0], user.email);

/** Reviewing and keeping what a run produced, repo by repo (`?repo=` narrows to one). */
export class RunReview {
  constructor(private readonly store: RunStore, private readonly now: () => string, private readonly forge?: GitHubForge) {}

  private async repos(run: RunRow, repo?: string): Promise<RunRepoRow[]> {
    const all = await this.store.runRepos(run.id);
    const list = repo ? all.filter(r => r.name === repo || r.repo_id === repo) : all;
    if (repo && !list.length) throw errors.notFound(`repo ${repo} of run ${run.id}`);
    for (const r of list) if (!existsSync(r.worktree)) throw errors.conflict(`the worktree of ${r.name} is gone; continue the run to recreate it`);
    return list;
  }

  private notWhileRunning(run: RunRow, what: string): void {
    if (ACTIVE.includes(run.status)) throw errors.conflict(`run ${run.id} is ${run.status}: pause or cancel it before you ${what}`);
  }

  async changes(run: RunRow, repo?: string) {
    const items = [];
    for (const r of await this.repos(run, repo)) {
      const { diff, files } = await worktreeDiff(r.worktree, r.base_commit);
      items.push({ repo: r.name, repo_id: r.repo_id, base_commit: r.base_commit, branch: run.branch, diff, files });
    }
    return { items };
  }

  async diffStats(run: RunRow, repo?: string) {
    const items = [];
    let additions = 0; let deletions = 0; let files = 0;
    for (const r of await this.repos(run, repo)) {
      const { files: f } = await worktreeDiff(r.worktree, r.base_commit);
      const a = f.reduce((s, x) => s + x.additions, 0); const d = f.reduce((s, x) => s + x.deletions, 0);
      additions += a; deletions += d; files += f.length;
      items.push({ repo: r.name, files: f, additions: a, deletions: d });
    }
    return { files, additions, deletions, items };
  }

  async commit(run: RunRow, user: User, message: string, repo?: string) {
    this.notWhileRunning(run, 'commit');
    const commits = [];
    for (const r of await this.repos(run, repo)) {
      const sha = await commitAll(r.worktree, message, userIdentity(user));
      if (sha) commits.push({ repo: r.name, commit: sha });
    }
    if (!commits.length) throw errors.conflict('nothing to commit: the worktree has no changes');
    return { branch: run.branch, commits };
  }

  async renameBranch(run: RunRow, name: string) {
    this.notWhileRunning(run, 'rename its branch');
    const repos = await this.repos(run);
    for (const r of repos) {
      await assertBranchName(r.repo_path, name);
      if ((await runGit(r.repo_path, ['show-ref', '--verify', '--quiet', `refs/heads/${name}`])).code === 0) throw errors.conflict(`branch ${name} already exists in ${r.name}`);
    }
    for (const r of repos) await git(r.worktree, ['branch', '-m', run.branch, name]);
    await this.store.renameBranch(run.id, name, this.now());
    return { branch: name };
  }

  async revert(run: RunRow, repo?: string) {
    this.notWhileRunning(run, 'revert it');
    const items = [];
    for (const r of await this.repos(run, repo)) {
      await git(r.worktree, ['reset', '-q', '--hard', r.base_commit]);
      await git(r.worktree, ['clean', '-q', '-fd']);
      items.push({ repo: r.name, commit: r.base_commit });
    }
    return { items };
  }

  async push(run: RunRow, repo?: string) {
    const items = [];
    for (const r of await this.repos(run, repo)) {
      const remote = await pushRemote(r.repo_path);
      await git(r.worktree, ['push', '-q', remote, `refs/heads/${run.branch}:refs/heads/${run.branch}`]);
      items.push({ repo: r.name, remote, branch: run.branch, url: (await runGit(r.repo_path, ['remote', 'get-url', remote])).stdout.trim() });
    }
    return { items };
  }

  /**
   * Pushes the branch and opens the pull request through the forge's API when a token is set
   * (number and URL); without one, answers the forge's compare page, which opens it.
   */
  async pullRequest(run: RunRow, repo?: string, input: { title?: string; body?: string } = {}) {
    const pushed = await this.push(run, repo);
    const reposById = new Map((await this.store.runRepos(run.id)).map(r => [r.name, r]));
    const items = [];
    for (const p of pushed.items) {
      const base = reposById.get(p.repo)?.base_branch ?? 'main';
      const item = { ...p, base, compare_url: compareUrl(p.url, base, run.branch) };
      if (!this.forge?.configured) { items.push(item); continue; }
      const title = input.title ?? run.task.split('\n')[0].slice(0, 200);
      const pr = await this.forge.openPullRequest(p.url, { title, body: input.body, head: run.branch, base });
      items.push({ ...item, number: pr.number, pull_request_url: pr.url, existing: pr.existing });
    }
    return { items };
  }

  /** Fast-forwards the source branch on the remote to the run's branch; 409 when that is not a fast-forward. */
  async accept(run: RunRow, repo?: string) {
    this.notWhileRunning(run, 'accept it');
    const items = [];
    for (const r of await this.repos(run, repo)) {
      const remote = await pushRemote(r.repo_path);
      if (!r.base_branch) throw errors.conflict(`run ${run.id} started from a detached commit in ${r.name}: there is no branch to accept into; push it instead`);
      const res = await runGit(r.worktree, ['push', '--porcelain', remote, `refs/heads/${run.branch}:refs/heads/${r.base_branch}`]);
      if (res.code !== 0) throw errors.conflict(`accepting into ${r.base_branch} on ${remote} was refused (not a fast-forward? rebase the run's branch first)`, { output: (res.stdout + res.stderr).trim().slice(0, 2000) });
      items.push({ repo: r.name, remote, into: r.base_branch, commit: (await git(r.worktree, ['rev-parse', 'HEAD'])).trim() });
    }
    return { items };
  }
}

function compareUrl(remoteUrl: string, base: string, branch: string): string | null {
  const m = remoteUrl.match(/^(?:https?:\/\/|git@)([^/:]+)[/:](.+?)(?:\.git)?$/);
  if (!m) return null;
  const [, host, path] = m;
  if (host.includes('gitlab')) return `https://${host}/${path}/-/merge_requests/new?merge_request[source_branch]=${encodeURIComponent(branch)}&merge_request[target_branch]=${encodeURIComponent(base)}`;
  return `https://${host}/${path}/compare/${encodeURIComponent(base)}...${encodeURIComponent(branch)}?expand=1`;
}

/** Branches of a project's repos with ahead/behind against each repo's checked-out branch, and the run that made them. */
export async function projectBranches(store: RunStore, projectId: string) {
  const runs = await store.runsOfProject(projectId);
  const items = [];
  for (const repo of await store.repos(projectId)) {
    if (!existsSync(repo.repo_path)) continue;
    const against = (await runGit(repo.repo_path, ['symbolic-ref', '--quiet', '--short', 'HEAD'])).stdout.trim() || 'HEAD';
    for (const b of await branches(repo.repo_path, against)) {
      items.push({ repo: repo.name, repo_id: repo.id, ...b, compared_to: against, run_id: runs.find(r => r.branch === b.name)?.id ?? null });
    }
  }
  return { items, nextCursor: null };
}

export async function deleteBranch(repoPath: string, name: string, runs: RunRow[]) {
  await assertBranchName(repoPath, name);
  if (runs.some(r => r.branch === name && ACTIVE.includes(r.status))) throw errors.conflict(`branch ${name} belongs to a run that is still running`);
  const r = await runGit(repoPath, ['branch', '-D', name]);
  if (r.code !== 0) {
    if (/not found/.test(r.stderr)) throw errors.notFound(`branch ${name}`);
    throw errors.conflict(`cannot delete branch ${name}: ${r.stderr.trim()}`);
  }
}

/** A merge's or rebase's arguments from the JSON body, else the query; repo_id and branch are required. */
export function branchOpArgs(query: Record<string, string | undefined>, body: Record<string, string | undefined> | undefined) {
  const a = { ...query, ...(body ?? {}) };
  const missing = ['repo_id', 'branch'].filter(k => !a[k]);
  if (missing.length) throw errors.validation(`${missing.join(' and ')} required (in the JSON body or the query)`, { missing });
  return a as { repo_id: string; branch: string; into?: string; onto?: string };
}

/** The branch checked out in the repository (what the runner merges into when none is named). */
export async function checkedOutBranch(repoPath: string): Promise<string> {
  const name = (await runGit(repoPath, ['symbolic-ref', '--quiet', '--short', 'HEAD'])).stdout.trim();
  if (!name) throw errors.conflict('the repository has no branch checked out (detached HEAD): name the other branch');
  return name;
}

export async function mergeOrRebase(repoPath: string, op: 'merge' | 'rebase', branch: string, other: string, user: User) {
  await assertBranchName(repoPath, branch);
  await assertBranchName(repoPath, other);
  for (const b of [branch, other]) {
    if ((await runGit(repoPath, ['show-ref', '--verify', '--quiet', `refs/heads/${b}`])).code !== 0) throw errors.notFound(`branch ${b}`);
  }
  return updateBranch(repoPath, branch, op, other, userIdentity(user));
}
