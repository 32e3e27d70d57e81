import { errors, type EgressService } from 'plinth/sdk';

/** owner/name of a GitHub remote (https or ssh form), or undefined for another forge or a local path. */
export function githubRepoOf(remoteUrl: string): { owner: string; repo: string } | undefined {
  const m = remoteUrl.match(/^(?:https?:\/\/(?:[^@/]+@)?|ssh:\/\/git@|git@)github\.com[/:]([^/]+)\/(.+?)(?:\.git)?\/?$/);
  return m ? { owner: m[1], repo: m[2] } : undefined;
}

export interface PullRequestView { number: number; url: string; state: string; merged: boolean; head_sha: string | null }

/**
 * Pull requests through GitHub's REST API (`forge.apiBaseUrl`, a GitHub Enterprise URL works
 * too), with the token from the PLINTH_GITHUB_TOKEN secret, through the egress policy.
 * Endpoints: POST /repos/{o}/{r}/pulls, GET /repos/{o}/{r}/pulls?head=o:branch, GET
 * /repos/{o}/{r}/commits/{sha}/status (combined status), GET /repos/{o}/{r}/pulls/{n}/reviews.
 */
export class GitHubForge {
  constructor(private readonly apiBaseUrl: string, private readonly token: string | undefined, private readonly egress: EgressService) {}

  get configured(): boolean { return Boolean(this.token); }

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await this.egress.fetch(this.apiBaseUrl.replace(/\/$/, '') + path, {
      method,
      headers: {
        accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', authorization: `Bearer ${this.token}`,
        ...(body ? { 'content-type': 'application/json' } : {}), 'user-agent': 'plinth',
      },
      body: body ? JSON.stringify(body) : undefined,
      timeoutMs: 15_000,
    });
    const json = await res.json().catch(() => null);
    return { status: res.status, json };
  }

  private repo(remoteUrl: string) {
    const r = githubRepoOf(remoteUrl);
    if (!r) throw errors.conflict(`the remote ${remoteUrl} is not a GitHub repository: open the pull request on its forge`);
    return r;
  }

  private fail(what: string, r: { status: number; json: any }): never {
    throw errors.unavailable(`GitHub refused to ${what} (${r.status}): ${r.json?.message ?? 'no message'}`);
  }

  /** Opens the pull request, or answers the open one for that branch (GitHub's 422 "already exists"). */
  async openPullRequest(remoteUrl: string, input: { title: string; body?: string; head: string; base: string }): Promise<PullRequestView & { existing: boolean }> {
    const { owner, repo } = this.repo(remoteUrl);
    const r = await this.call('POST', `/repos/${owner}/${repo}/pulls`, { title: input.title, body: input.body ?? '', head: input.head, base: input.base });
    if (r.status === 201) return { ...view(r.json), existing: false };
    if (r.status === 422) {
      const open = (await this.pulls(owner, repo, input.head, 'open'))[0];
      if (open) return { ...open, existing: true };
    }
    this.fail('open the pull request', r);
  }

  private async pulls(owner: string, repo: string, branch: string, state: 'open' | 'all'): Promise<PullRequestView[]> {
    const r = await this.call('GET', `/repos/${owner}/${repo}/pulls?head=${encodeURIComponent(`${owner}:${branch}`)}&state=${state}`);
    if (r.status !== 200 || !Array.isArray(r.json)) this.fail('list pull requests', r);
    return r.json.map(view);
  }

  /** The branch's pull request with its checks (combined status) and review status; null without one. */
  async status(remoteUrl: string, branch: string) {
    const { owner, repo } = this.repo(remoteUrl);
    const pr = (await this.pulls(owner, repo, branch, 'all'))[0];
    if (!pr) return null;
    let checks: { state: string; total: number } = { state: 'none', total: 0 };
    if (pr.head_sha) {
      const s = await this.call('GET', `/repos/${owner}/${repo}/commits/${pr.head_sha}/status`);
      if (s.status === 200) checks = { state: s.json.total_count ? s.json.state : 'none', total: s.json.total_count ?? 0 };
    }
    const rv = await this.call('GET', `/repos/${owner}/${repo}/pulls/${pr.number}/reviews`);
    return { ...pr, checks, review: rv.status === 200 && Array.isArray(rv.json) ? reviewState(rv.json) : 'unknown' };
  }
}

function view(p: any): PullRequestView {
  return { number: p.number, url: p.html_url, state: p.state, merged: Boolean(p.merged_at), head_sha: p.head?.sha ?? null };
}

/** Each reviewer's latest decisive review counts (as GitHub's own summary does). */
function reviewState(reviews: Array<{ state: string; user?: { login?: string } }>): 'approved' | 'changes_requested' | 'pending' {
  const last = new Map<string, string>();
  for (const r of reviews) if (r.state === 'APPROVED' || r.state === 'CHANGES_REQUESTED' || r.state === 'DISMISSED') last.set(r.user?.login ?? '?', r.state);
  const states = [...last.values()];
  if (states.includes('CHANGES_REQUESTED')) return 'changes_requested';
  return states.includes('APPROVED') ? 'approved' : 'pending';
}
