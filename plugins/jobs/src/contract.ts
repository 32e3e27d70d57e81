/** Contract of the `jobs` plugin: executors of job kinds, and enqueueing from other plugins. */
import { createServiceRef, type Disposer, type User } from 'plinth/sdk';

export interface JobExecutionContext {
  job: { id: string; kind: string; request: Record<string, unknown>; owner: string; attempt: number; parentResults: Record<string, unknown> };
  user: User;
  /** Aborted on cancel or when the lease is lost. */
  signal: AbortSignal;
  log(line: string): void;
  /**
   * Saves a file as this attempt's artifact (`GET /api/jobs/:id/artifact` answers the latest
   * attempt's); a later save in the same attempt replaces it. Refused above the plugin's
   * `maxArtifactBytes`.
   */
  saveArtifact?(name: string, bytes: Buffer | string): Promise<void>;
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
  /** `fresh` (default for one-shot jobs) or `resume` (default when `recurring`): resume continues the session of the previous job from the same `source`. */
  continuity?: 'fresh' | 'resume';
  /** `per_fire` (default unless assigned to an agent's instance): one process per job, released at its end; another name keeps what the job started. */
  processScope?: string;
  /** A fire of a recurring schedule (changes the continuity default). */
  recurring?: boolean;
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

/** A recurring job as the job list shows it beside the jobs (`recurring: [...]`): a cron schedule's template. */
export interface RecurringJob {
  id: string; owner: string; name: string | null; cron: string; timezone: string; enabled: boolean;
  nextRunAt: string | null; lastRunAt: string | null;
  /** What each fire makes: one job (`kind`, `title`) or a template's crew (`template`). */
  job: { kind: string; title: string | null } | null; template: string | null;
}

/** Lists recurring jobs for `GET /api/jobs`: every owner's when `owner` is undefined (an admin). */
export type RecurringSource = (owner: string | undefined, limit: number) => Promise<RecurringJob[]>;

export interface JobsService {
  registerExecutor(executor: JobExecutor): Disposer;
  /** The schedules plugin lists its cron schedules here, so the job list carries them (`recurring`). */
  registerRecurring?(source: RecurringSource): Disposer;
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
