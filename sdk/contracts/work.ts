/** Contracts of the `jobs`, `approvals` and `runs` plugins. */
import { createServiceRef } from '../refs';
import type { Disposer, User } from '../types';

export interface JobExecutionContext {
  job: { id: string; kind: string; request: Record<string, unknown>; owner: string; attempt: number; parentResults: Record<string, unknown> };
  user: User;
  /** Aborted on cancel or when the lease is lost. */
  signal: AbortSignal;
  log(line: string): void;
}

/** Runs jobs of one kind; plugins contribute kinds (e.g. `run` from the runs plugin). */
export interface JobExecutor {
  kind: string;
  /** JSON Schema of `request` for this kind, checked when a job is created. */
  requestSchema?: Record<string, unknown>;
  run(ctx: JobExecutionContext): Promise<unknown>;
}

export interface EnqueueInput {
  kind: string; request: Record<string, unknown>; owner: string; maxRetries?: number; parents?: string[]; title?: string;
  /** A unique key: a second enqueue with it answers the first job (`created: false`). */
  idempotencyKey?: string;
  /** Who made the job, e.g. `schedule:<id>`. */
  source?: string;
}

/** A job as other plugins see it (no heavy fields). */
export interface JobSummary {
  id: string;
  kind: string;
  title: string | null;
  owner: string;
  state: 'queued' | 'ready' | 'running' | 'blocked' | 'done' | 'failed' | 'cancelled' | 'archived';
  attempts: number;
  createdAt: string;
  updatedAt: string;
}

export interface JobsService {
  registerExecutor(executor: JobExecutor): Disposer;
  /**
   * `idempotencyKey` is a unique key: enqueueing twice with the same key answers the first job
   * (`created: false`) instead of making a second one — how a schedule fires once across restarts.
   */
  enqueue(input: EnqueueInput): Promise<{ id: string; created?: boolean }>;
  /** Many jobs without parents in a few statements (a burst of schedule fires); answers in input order. */
  enqueueMany?(inputs: Array<Omit<EnqueueInput, 'parents'>>): Promise<Array<{ id: string; created: boolean }>>;
  /** Creates the crew of a `*.job_workflow.yaml` template after validating `inputs` (400 when they do not fit). */
  enqueueTemplate?(input: { template: string; inputs: Record<string, unknown>; owner: string; idempotencyKey?: string; source?: string }): Promise<{ crewId: string; ids: string[]; created?: boolean }>;
  getJob?(id: string): Promise<JobSummary | undefined>;
}

export const jobsRef = createServiceRef<JobsService>({ id: 'jobs.service' });

export interface ApprovalRequestView {
  id: string;
  tool: string;
  input: unknown;
  requester: string;
  state: 'pending' | 'approved' | 'denied' | 'expired';
  createdAt: string;
  expiresAt: string;
}

/** Deciding approvals from elsewhere (a chat's inline buttons, the dashboard). */
export interface ApprovalsService {
  get(id: string): Promise<ApprovalRequestView | undefined>;
  decide(id: string, decision: { approved: boolean; reason?: string; by: User }): Promise<ApprovalRequestView>;
}

export const approvalsRef = createServiceRef<ApprovalsService>({ id: 'approvals.service' });

/** How the runs plugin drives one coding CLI; plugins add adapters through `cliAdaptersRef`. */
export interface CliAdapter {
  name: string;
  command(input: { task: string; message?: string; sessionId?: string; cwd: string; config: Record<string, unknown> }): { file: string; args: string[]; env?: Record<string, string> };
  /** Hosts the CLI reaches (its provider's API), allowed through the process sandbox's proxy; an admin may override them (runs config adapterHosts). */
  hosts?: string[];
  /** Write the CLI's hook settings into the worktree so its hooks post to `hookUrl` with `token`. */
  setupHooks?(input: { cwd: string; hookUrl: string; token: string }): Promise<void>;
  /** Read tokens, cost and session id from the CLI's output when it reports them. */
  parseResult?(output: string): { sessionId?: string; inputTokens?: number; outputTokens?: number; costUsd?: number } | undefined;
}

export interface CliAdapterRegistry {
  register(adapter: CliAdapter): Disposer;
}

export const cliAdaptersRef = createServiceRef<CliAdapterRegistry>({ id: 'runs.adapters' });
