import type { PluginDatabase } from 'plinth/sdk';

export type RunStatus = 'queued' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';
export const ACTIVE: RunStatus[] = ['queued', 'running'];

export interface ProjectRow { id: string; owner: string; name: string; created_at: string }
export interface RepoRow { id: string; project_id: string; name: string; repo_path: string; created_at: string }
export interface RunRow {
  id: string; owner: string; project_id: string; agent_id: string; adapter: string; task: string;
  status: RunStatus; branch: string; cwd: string; session_id: string | null; exit_code: number | null;
  error: string | null; result: string | null; config: string; token_hash: string; created_at: string; updated_at: string;
  /** The kernel node holding the run's PTY while it is queued or running. */
  node_id: string | null;
}
export interface RunRepoRow {
  run_id: string; repo_id: string; name: string; repo_path: string; worktree: string;
  base_commit: string; base_branch: string | null;
}
export interface RunEvent { seq: number; type: string; data: any; time: string }

/** Projects, repos, runs and each run's numbered event log (lifecycle, hooks and terminal output). */
export class RunStore {
  private readonly t: (n: string) => string;
  constructor(private readonly db: PluginDatabase) { this.t = n => db.table(n); }

  async createProject(p: ProjectRow): Promise<void> {
    await this.db.query(`INSERT INTO ${this.t('projects')} (id, owner, name, created_at) VALUES (?, ?, ?, ?)`, [p.id, p.owner, p.name, p.created_at]);
  }
  async project(id: string): Promise<ProjectRow | undefined> {
    return (await this.db.query(`SELECT * FROM ${this.t('projects')} WHERE id = ?`, [id]))[0];
  }
  async listProjects(owner: string | undefined, limit: number, cursor?: string): Promise<ProjectRow[]> {
    const where: string[] = []; const params: unknown[] = [];
    if (owner) { where.push('owner = ?'); params.push(owner); }
    if (cursor) { where.push('id > ?'); params.push(cursor); }
    return this.db.query(`SELECT * FROM ${this.t('projects')} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id LIMIT ${limit}`, params);
  }
  async deleteProject(id: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.t('repos')} WHERE project_id = ?`, [id]);
    await this.db.query(`DELETE FROM ${this.t('projects')} WHERE id = ?`, [id]);
  }

  async addRepo(r: RepoRow): Promise<void> {
    await this.db.query(`INSERT INTO ${this.t('repos')} (id, project_id, name, repo_path, created_at) VALUES (?, ?, ?, ?, ?)`, [r.id, r.project_id, r.name, r.repo_path, r.created_at]);
  }
  async repos(projectId: string): Promise<RepoRow[]> {
    return this.db.query(`SELECT * FROM ${this.t('repos')} WHERE project_id = ? ORDER BY created_at, id`, [projectId]);
  }
  async deleteRepo(projectId: string, repoId: string): Promise<boolean> {
    return (await this.db.query(`DELETE FROM ${this.t('repos')} WHERE project_id = ? AND id = ? RETURNING id`, [projectId, repoId])).length > 0;
  }

  // No db.transaction here: on SQLite the kernel's one connection refuses a transaction begun while
  // another request's is open ("cannot start a transaction within a transaction") under concurrent
  // run creation. The repos rows are written first, so a run row never lacks them.
  async createRun(run: RunRow, repos: RunRepoRow[]): Promise<void> {
    const tx = this.db;
    {
      for (const r of repos) {
        await tx.query(`INSERT INTO ${this.t('run_repos')} (run_id, repo_id, name, repo_path, worktree, base_commit, base_branch) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          [r.run_id, r.repo_id, r.name, r.repo_path, r.worktree, r.base_commit, r.base_branch]);
      }
      await tx.query(`INSERT INTO ${this.t('runs')} (id, owner, project_id, agent_id, adapter, task, status, branch, cwd, session_id, exit_code, error, result, config, token_hash, created_at, updated_at, node_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [run.id, run.owner, run.project_id, run.agent_id, run.adapter, run.task, run.status, run.branch, run.cwd, run.session_id, run.exit_code, run.error, run.result, run.config, run.token_hash, run.created_at, run.updated_at, run.node_id]);
    }
  }
  async run(id: string): Promise<RunRow | undefined> {
    return (await this.db.query(`SELECT * FROM ${this.t('runs')} WHERE id = ?`, [id]))[0];
  }
  async runRepos(runId: string): Promise<RunRepoRow[]> {
    return this.db.query(`SELECT * FROM ${this.t('run_repos')} WHERE run_id = ? ORDER BY name`, [runId]);
  }
  async listRuns(filter: { owner?: string; projectId?: string; status?: string }, limit: number, cursor?: string): Promise<RunRow[]> {
    const where: string[] = []; const params: unknown[] = [];
    if (filter.owner) { where.push('owner = ?'); params.push(filter.owner); }
    if (filter.projectId) { where.push('project_id = ?'); params.push(filter.projectId); }
    if (filter.status) { where.push('status = ?'); params.push(filter.status); }
    if (cursor) { where.push('id > ?'); params.push(cursor); }
    return this.db.query(`SELECT * FROM ${this.t('runs')} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id LIMIT ${limit}`, params);
  }
  async runsByStatus(statuses: RunStatus[]): Promise<RunRow[]> {
    return this.db.query(`SELECT * FROM ${this.t('runs')} WHERE status IN (${statuses.map(() => '?').join(', ')})`, statuses);
  }
  async runsOfProject(projectId: string): Promise<RunRow[]> {
    return this.db.query(`SELECT * FROM ${this.t('runs')} WHERE project_id = ?`, [projectId]);
  }
  async updateRun(id: string, fields: Partial<RunRow>, now: string): Promise<void> {
    const keys = Object.keys(fields);
    await this.db.query(`UPDATE ${this.t('runs')} SET ${keys.map(k => `${k} = ?`).join(', ')}, updated_at = ? WHERE id = ?`,
      [...keys.map(k => (fields as any)[k]), now, id]);
  }
  /** Moves a run from one of `from` to `to`; false when another request got there first. */
  async transition(id: string, from: RunStatus[], to: RunStatus, now: string): Promise<boolean> {
    const rows = await this.db.query(`UPDATE ${this.t('runs')} SET status = ?, updated_at = ? WHERE id = ? AND status IN (${from.map(() => '?').join(', ')}) RETURNING id`,
      [to, now, id, ...from]);
    return rows.length > 0;
  }
  async renameBranch(runId: string, branch: string, now: string): Promise<void> {
    await this.updateRun(runId, { branch }, now);
  }
  async deleteRun(id: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.t('runs')} WHERE id = ?`, [id]);
    await this.db.query(`DELETE FROM ${this.t('run_events')} WHERE run_id = ?`, [id]);
    await this.db.query(`DELETE FROM ${this.t('run_repos')} WHERE run_id = ?`, [id]);
  }

  async lastSeq(runId: string): Promise<number> {
    const [row] = await this.db.query(`SELECT MAX(seq) AS m FROM ${this.t('run_events')} WHERE run_id = ?`, [runId]);
    return Number(row?.m ?? 0);
  }
  async insertEvents(runId: string, events: RunEvent[]): Promise<void> {
    if (!events.length) return;
    const values = events.map(() => '(?, ?, ?, ?, ?)').join(', ');
    await this.db.query(`INSERT INTO ${this.t('run_events')} (run_id, seq, type, data, created_at) VALUES ${values}`,
      events.flatMap(e => [runId, e.seq, e.type, JSON.stringify(e.data), e.time]));
  }
  async events(runId: string, opts: { after?: number; limit?: number; types?: string[]; excludeTypes?: string[] } = {}): Promise<RunEvent[]> {
    const where = ['run_id = ?', 'seq > ?']; const params: unknown[] = [runId, opts.after ?? 0];
    if (opts.types?.length) { where.push(`type IN (${opts.types.map(() => '?').join(', ')})`); params.push(...opts.types); }
    if (opts.excludeTypes?.length) { where.push(`type NOT IN (${opts.excludeTypes.map(() => '?').join(', ')})`); params.push(...opts.excludeTypes); }
    const rows = await this.db.query(`SELECT seq, type, data, created_at FROM ${this.t('run_events')} WHERE ${where.join(' AND ')} ORDER BY seq ${opts.limit ? `LIMIT ${opts.limit}` : ''}`, params);
    return rows.map(r => ({ seq: Number(r.seq), type: r.type, data: JSON.parse(r.data), time: r.created_at }));
  }
}
