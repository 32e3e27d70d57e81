import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertOwner, errors, newId, sandboxFor, type AuthService, type Clock, type EventBus, type Logger,
  type SandboxMode, type SandboxService, type ToolPolicyService, type User,
} from 'plinth/sdk';
import type { AgentRuntime } from 'plinth/contracts/agents';
import type { CliAdapters } from './adapters';
import { OUTPUT, type RunEventLog } from './event-log';
import { StructuredOutput } from './structured-output';
import { PLINTH_IDENTITY, assertRepoPath, commitAll, currentBranch, git, resolveCommit, runGit, withRepoLock } from './git';
import { ACTIVE, type RunRepoRow, type RunRow, type RunStatus, type RunStore } from './run-store';
import { PtyProcess, minimalEnv } from './terminal';
import { sandboxedCommand } from './run-sandbox';
import { handleHook, hashToken } from './run-hooks';
import { excludeFiles, removeWorktrees, untracked } from './worktree-files';

interface LiveRun { proc: PtyProcess; intent?: 'cancel' | 'pause'; finished: Promise<void> }

/** Runs alive in this process across plugin generations, so a reload's recovery leaves them alone. */
const LIVE: Set<string> = ((globalThis as any)[Symbol.for('plinth.runs.live')] ??= new Set<string>());

export interface RunServiceDeps {
  store: RunStore; log: RunEventLog; adapters: CliAdapters; clock: Clock; logger: Logger; events: EventBus; auth: AuthService;
  agents: () => AgentRuntime | undefined; gate: () => ToolPolicyService | undefined; dataDir: string; hookUrl: (runId: string) => string;
  /** The kernel's process sandbox, the plugin's `sandbox` mode and per-adapter host overrides. */
  sandbox: SandboxService | undefined; sandboxMode: SandboxMode; adapterHosts: Record<string, string[]>;
  nodeId: string; // this kernel's node: a run is pinned to the node that starts its PTY
}

const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/\x1b\][^\x07]*\x07/g, '');

/** The run lifecycle: worktrees, the CLI in a PTY, its hooks, and the state machine around them. */
export class RunService {
  private readonly live = new Map<string, LiveRun>();
  constructor(private readonly d: RunServiceDeps) {}

  private now(): string { return new Date(this.d.clock.now()).toISOString(); }
  get worktreeRoot(): string { return join(this.d.dataDir, 'worktrees'); }
  liveProcess(runId: string): PtyProcess | undefined { return this.live.get(runId)?.proc; }

  async get(user: User | undefined, id: string): Promise<RunRow> {
    const run = await this.d.store.run(id);
    if (!run) throw errors.notFound(`run ${id}`);
    assertOwner(user, run.owner, `run ${id}`);
    return run;
  }

  async create(user: User, input: { agent_id: string; task: string; source_branch?: string; project_id?: string }): Promise<RunRow> {
    const agents = this.d.agents();
    if (!agents) throw errors.unavailable('no agent runtime: enable the agents plugin to start runs of cli agents');
    const agent = await agents.getAgent(input.agent_id);
    if (!agent || (agent.owner && agent.owner !== user.id && user.role !== 'admin')) throw errors.notFound(`agent ${input.agent_id}`);
    if (agent.kind !== 'cli') throw errors.badRequest(`agent ${agent.name} is of kind "${agent.kind}"; runs need a cli agent`);
    const adapterName = agent.cli_name ?? 'command';
    const adapter = this.d.adapters.require(adapterName);
    // Fail closed before any worktree exists: a non-admin's CLI runs only inside the sandbox.
    await sandboxFor(this.d.sandbox, this.d.sandboxMode, user.role === 'admin');
    const config = { ...(agent.provider_config ?? {}) };
    const projectId = input.project_id ?? (typeof config.project_id === 'string' ? config.project_id : undefined);
    if (!projectId) throw errors.badRequest('no project: pass project_id, or set provider_config.project_id on the agent');
    const project = await this.d.store.project(projectId);
    if (!project) throw errors.notFound(`project ${projectId}`);
    assertOwner(user, project.owner, `project ${projectId}`);
    const repos = await this.d.store.repos(projectId);
    if (!repos.length) throw errors.badRequest(`project ${projectId} has no repos: add one with POST /api/projects/${projectId}/repos`);

    const source = input.source_branch ?? 'HEAD';
    const runId = newId('run');
    const branch = `plinth/run-${randomBytes(4).toString('hex')}`;
    const runDir = join(this.worktreeRoot, runId);
    const rows: RunRepoRow[] = [];
    for (const repo of repos) {
      assertRepoPath(repo.repo_path);
      const base = await resolveCommit(repo.repo_path, source);
      const baseBranch = source === 'HEAD' ? await currentBranch(repo.repo_path)
        : (await runGit(repo.repo_path, ['show-ref', '--verify', '--quiet', `refs/heads/${source}`])).code === 0 ? source : null;
      rows.push({ run_id: runId, repo_id: repo.id, name: repo.name, repo_path: repo.repo_path, worktree: join(runDir, repo.name), base_commit: base, base_branch: baseBranch });
    }
    mkdirSync(runDir, { recursive: true });
    const made: RunRepoRow[] = [];
    try {
      for (const r of rows) { await withRepoLock(r.repo_path, () => git(r.repo_path, ['worktree', 'add', '-q', '-b', branch, r.worktree, r.base_commit])); made.push(r); }
    } catch (err) {
      await removeWorktrees(made, branch);
      rmSync(runDir, { recursive: true, force: true });
      throw err;
    }
    const token = randomBytes(32).toString('base64url');
    const now = this.now();
    const run: RunRow = {
      id: runId, owner: user.id, project_id: projectId, agent_id: agent.id, adapter: adapterName, task: input.task, status: 'queued',
      branch, cwd: rows.length === 1 ? rows[0].worktree : runDir, session_id: null, exit_code: null, error: null, result: null,
      config: JSON.stringify(config), token_hash: hashToken(token), created_at: now, updated_at: now, node_id: this.d.nodeId,
    };
    await this.d.store.createRun(run, rows);
    await this.d.log.append(runId, 'run.created', { agent_id: agent.id, adapter: adapterName, task: input.task, branch, repos: rows.map(r => ({ name: r.name, base_commit: r.base_commit })) });
    await this.spawn(run, rows, token, {});
    return (await this.d.store.run(runId))!;
  }

  /** Writes the CLI's hooks (kept out of diffs), then starts it in a PTY; a failure to start fails the run. */
  private async spawn(run: RunRow, repos: RunRepoRow[], token: string, input: { message?: string }): Promise<void> {
    const adapter = this.d.adapters.require(run.adapter);
    const config = JSON.parse(run.config);
    const hookUrl = this.d.hookUrl(run.id);
    try {
      if (adapter.setupHooks) {
        const before = await Promise.all(repos.map(r => untracked(r.worktree)));
        await adapter.setupHooks({ cwd: run.cwd, hookUrl, token });
        for (let i = 0; i < repos.length; i++) {
          const added = (await untracked(repos[i].worktree)).filter(f => !before[i].includes(f));
          if (added.length) excludeFiles(repos[i].worktree, added);
        }
      }
      const cmd = adapter.command({ task: run.task, message: input.message, sessionId: run.session_id ?? undefined, cwd: run.cwd, config });
      const env = minimalEnv({ ...(cmd.env ?? {}), PLINTH_RUN_ID: run.id, PLINTH_RUN_TOKEN: token, PLINTH_HOOK_URL: hookUrl });
      const wrapped = await sandboxedCommand(this.d, join(this.worktreeRoot, run.id), run, repos, cmd, env, hookUrl, adapter.hosts);
      const proc = new PtyProcess(wrapped.file, wrapped.args, { cwd: run.cwd, env: wrapped.env });
      void proc.exited.then(() => wrapped.release());
      const liveRun: LiveRun = { proc, finished: undefined as any };
      this.live.set(run.id, liveRun);
      LIVE.add(run.id);
      const structured = StructuredOutput.for(run.adapter);
      proc.onData(data => {
        this.d.log.output(run.id, data);
        for (const e of structured?.feed(data) ?? []) void this.d.log.append(run.id, e.type, e.data).catch(() => undefined);
      });
      this.d.log.onPressure(run.id, paused => (paused ? proc.pause() : proc.resume()));
      liveRun.finished = proc.exited.then(e => this.finish(run.id, liveRun, e.exitCode, e.signal));
      await this.d.store.updateRun(run.id, { status: 'running', exit_code: null, error: null, token_hash: hashToken(token), node_id: this.d.nodeId }, this.now());
      await this.d.log.append(run.id, 'run.started', { pid: proc.pid, command: [cmd.file, ...cmd.args], message: input.message ?? null });
      await this.publish(run, 'running');
    } catch (err: any) {
      await this.d.store.updateRun(run.id, { status: 'failed', error: `could not start: ${err.message}` }, this.now());
      await this.d.log.append(run.id, 'run.failed', { error: `could not start: ${err.message}` });
      throw err;
    }
  }

  private async finish(runId: string, liveRun: LiveRun, exitCode: number, signal: number | undefined): Promise<void> {
    // node-pty delivers the last output after the exit notification, and a PTY paused for
    // backpressure still holds some: resume and wait until it has been quiet for a moment.
    this.d.log.onPressure(runId, undefined);
    liveRun.proc.resume();
    await liveRun.proc.quiet(100, 3000);
    await this.d.log.flushed(runId);
    const run = await this.d.store.run(runId);
    this.live.delete(runId);
    LIVE.delete(runId);
    if (!run) return;
    const output = liveRun.proc.output();
    const adapter = this.d.adapters.get(run.adapter);
    let result: ReturnType<NonNullable<typeof adapter>['parseResult'] & {}> | undefined;
    try { result = adapter?.parseResult?.(output); } catch (err: any) { this.d.logger.warn('result parser failed', { runId, error: err.message }); }
    if (result) {
      await this.d.store.updateRun(runId, { result: JSON.stringify(result), ...(result.sessionId ? { session_id: result.sessionId } : {}) }, this.now());
      await this.d.log.append(runId, 'run.result', result);
    }
    let status: RunStatus;
    if (liveRun.intent === 'cancel') {
      status = 'cancelled';
      await this.d.store.updateRun(runId, { status, exit_code: exitCode }, this.now());
      await this.d.log.append(runId, 'run.cancelled', { exit_code: exitCode, signal: signal ?? null });
    } else if (liveRun.intent === 'pause') {
      status = 'paused';
      const checkpoints: Array<{ repo: string; commit: string | null }> = [];
      for (const r of await this.d.store.runRepos(runId)) {
        const commit = existsSync(r.worktree) ? await commitAll(r.worktree, 'plinth: checkpoint on pause', PLINTH_IDENTITY).catch(() => undefined) : undefined;
        checkpoints.push({ repo: r.name, commit: commit ?? null });
      }
      await this.d.store.updateRun(runId, { status, exit_code: exitCode }, this.now());
      await this.d.log.append(runId, 'run.paused', { checkpoints });
    } else if (exitCode === 0) {
      status = 'completed';
      await this.d.store.updateRun(runId, { status, exit_code: 0 }, this.now());
      await this.d.log.append(runId, 'run.completed', { exit_code: 0 });
    } else {
      status = 'failed';
      const last = stripAnsi(output).slice(-2000);
      await this.d.store.updateRun(runId, { status, exit_code: exitCode, error: `exited with code ${exitCode}${signal ? ` (signal ${signal})` : ''}` }, this.now());
      await this.d.log.append(runId, 'run.failed', { exit_code: exitCode, signal: signal ?? null, last_output: last });
    }
    await this.publish(run, status);
  }

  private async publish(run: RunRow, status: RunStatus): Promise<void> {
    await this.d.events.publish(`runs.${status}`, { run_id: run.id, project_id: run.project_id, status }, { owner: run.owner }).catch(() => undefined);
  }

  async cancel(user: User, id: string): Promise<RunRow> {
    const run = await this.get(user, id);
    const liveRun = this.live.get(id);
    if (liveRun) {
      liveRun.intent ??= 'cancel';
      await liveRun.proc.killTree();
      await liveRun.finished;
    } else if (await this.d.store.transition(id, ['paused', 'queued'], 'cancelled', this.now())) {
      await this.d.log.append(id, 'run.cancelled', { from: run.status });
    } else {
      throw errors.conflict(`run ${id} is ${run.status}; only queued, running or paused runs can be cancelled`);
    }
    return (await this.d.store.run(id))!;
  }

  async pause(user: User, id: string): Promise<RunRow> {
    const run = await this.get(user, id);
    const liveRun = this.live.get(id);
    if (!liveRun || run.status !== 'running') throw errors.conflict(`run ${id} is ${run.status}; only a running run can be paused`);
    liveRun.intent ??= 'pause';
    await liveRun.proc.killTree();
    await liveRun.finished;
    return (await this.d.store.run(id))!;
  }

  async continue(user: User, id: string, message: string | undefined): Promise<RunRow> {
    const run = await this.get(user, id);
    if (ACTIVE.includes(run.status) || this.live.has(id)) throw errors.conflict(`run ${id} is ${run.status}; continue a paused, completed, failed or cancelled run`);
    if (!(await this.d.store.transition(id, [run.status], 'queued', this.now()))) throw errors.conflict(`run ${id} changed state meanwhile`);
    const repos = await this.d.store.runRepos(id);
    try {
      for (const r of repos) {
        if (existsSync(r.worktree)) continue;
        await withRepoLock(r.repo_path, async () => {
          await runGit(r.repo_path, ['worktree', 'prune']);
          await git(r.repo_path, ['worktree', 'add', '-q', r.worktree, run.branch]);
        });
      }
    } catch (err) {
      await this.d.store.updateRun(id, { status: run.status }, this.now());
      throw err;
    }
    if (message) await this.d.log.append(id, 'user.message', { message, via: 'continue' });
    await this.spawn({ ...run, status: 'queued' }, repos, randomBytes(32).toString('base64url'), { message });
    return (await this.d.store.run(id))!;
  }

  /** A message for the running CLI: typed into its terminal and kept as `user.message`. */
  async notify(user: User, id: string, message: string): Promise<RunRow> {
    const run = await this.get(user, id);
    const liveRun = this.live.get(id);
    if (!liveRun) throw errors.conflict(`run ${id} is ${run.status}; use continue to message a run that is not running`);
    await this.d.log.append(id, 'user.message', { message, via: 'notify' });
    liveRun.proc.write(message + '\r');
    return run;
  }

  async remove(user: User, id: string): Promise<void> {
    const run = await this.get(user, id);
    if (ACTIVE.includes(run.status) || this.live.has(id)) throw errors.conflict(`run ${id} is ${run.status}: cancel it before deleting`);
    const repos = await this.d.store.runRepos(id);
    await removeWorktrees(repos, run.branch);
    rmSync(join(this.worktreeRoot, id), { recursive: true, force: true });
    await this.d.log.flushed(id);
    await this.d.store.deleteRun(id);
    this.d.log.forget(id);
  }

  /** A hook from the CLI (see run-hooks.ts). */
  hook(id: string, token: string | undefined, body: unknown): Promise<unknown> {
    return handleHook({ ...this.d, now: () => this.now() }, id, token, body);
  }

  /** Runs left queued/running by a kernel that is gone (not `alive`) have no process any more: they
   * become `failed` (resumable). At plugin start, worktree folders without a run are removed too. */
  async recover(alive: (nodeId: string | null) => boolean, atStart = true): Promise<number> {
    let n = 0;
    for (const run of await this.d.store.runsByStatus(ACTIVE)) {
      if (LIVE.has(run.id) || run.node_id === this.d.nodeId || alive(run.node_id)) continue;
      if (!(await this.d.store.transition(run.id, ACTIVE, 'failed', this.now()))) continue;
      await this.d.store.updateRun(run.id, { error: 'the kernel stopped while the run was running; continue it to resume' }, this.now());
      await this.d.log.append(run.id, 'run.failed', { error: 'kernel restarted', resumable: true });
      n++;
    }
    if (atStart && existsSync(this.worktreeRoot)) {
      for (const name of readdirSync(this.worktreeRoot)) {
        if (!(await this.d.store.run(name))) rmSync(join(this.worktreeRoot, name), { recursive: true, force: true });
      }
    }
    return n;
  }

  /** Plugin stop: the PTYs of this generation end with their runs marked failed (resumable). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.live.entries()].map(async ([id, l]) => {
      l.intent ??= 'cancel';
      await l.proc.killTree(500);
      await l.finished.catch(() => undefined);
      await this.d.store.updateRun(id, { status: 'failed', error: 'the runs plugin stopped while the run was running; continue it to resume' }, this.now());
      await this.d.log.append(id, 'run.failed', { error: 'plugin stopped', resumable: true });
      await this.d.log.flushed(id);
    }));
  }
}

export { OUTPUT };
