import { decodeCursor, errors, ownerFilter, pageOf, type ToolCallContext, type ToolRegistry } from 'plinth/sdk';
import { jobView } from './job-service';
import type { Job } from './job-store';
import { createJobOrCrew, ownedJob, type JobRouteDeps } from './routes';
import { BlockInput, CreateBody, JOB_STATES } from './schemas';

const jobId = { type: 'string', minLength: 1, maxLength: 80 } as const;
const obj = (required: string[], properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, required, properties });

/** The job a call is about: `job_id`, else the job whose turn is calling (as `jobs.block` takes it). */
function jobOf(input: { job_id?: string }, ctx: ToolCallContext, tool: string): string {
  const id = input.job_id ?? ctx.jobId ?? /^job:(.+)$/.exec(ctx.via ?? '')?.[1];
  if (!id) throw errors.badRequest(`${tool} needs a job: call it from a job's turn or pass job_id`);
  return id;
}

/**
 * The job board's tools, as the peer daemon's MCP server offered them (job_create, job_list,
 * job_status, job_result, job_cancel; its job_update's progress note is `jobs.comment`, its
 * hand-to-a-human is `jobs.block`). Each acts as the caller with the HTTP API's rules: another
 * user's job is "not found", command jobs stay admin-only unless configured.
 */
export function registerTools(tools: ToolRegistry, deps: Pick<JobRouteDeps, 'store' | 'service' | 'sandbox' | 'config' | 'clock'>): void {
  const { store, service } = deps;
  const owned = ownedJob(store);
  tools.register({
    name: 'create', risk: 'safe', inputSchema: CreateBody,
    description: 'Create a job (kind + request) or the crew of a template (template + inputs); optionally held until scheduledAt or for delay_ms',
    run: (input: any, ctx) => createJobOrCrew(deps, input, ctx.user),
  });
  tools.register({
    name: 'list', risk: 'safe', description: 'The caller\'s jobs (admins: everyone\'s unless mine), newest first, in summary form',
    inputSchema: obj([], { status: { enum: [...JOB_STATES] }, kind: { type: 'string', maxLength: 64 }, mine: { type: 'boolean' }, limit: { type: 'integer', minimum: 1, maximum: 500 }, cursor: { type: 'string', maxLength: 200 } }),
    async run(input: any, ctx) {
      const limit = input.limit ?? 50;
      const rows = await store.list({ owner: input.mine ? ctx.user.id : ownerFilter(ctx.user), state: input.status, kind: input.kind, limit, cursor: decodeCursor(input.cursor) });
      return pageOf(rows, limit, (j: Job) => ({ ms: Date.parse(j.createdAt), id: j.id }), j => jobView(j, 'summary'));
    },
  });
  tools.register({
    name: 'status', risk: 'safe', description: 'One job\'s state, attempts and error', inputSchema: obj([], { job_id: jobId }),
    async run(input: { job_id?: string }, ctx) {
      const j = await owned(jobOf(input, ctx, 'jobs.status'), ctx.user);
      return { id: j.id, kind: j.kind, title: j.title, state: j.state, attempts: j.attempts, maxRetries: j.maxRetries, error: j.error, updatedAt: j.updatedAt };
    },
  });
  tools.register({
    name: 'result', risk: 'safe', description: 'A job\'s result (null until it is done)', inputSchema: obj(['job_id'], { job_id: jobId }),
    async run(input: { job_id: string }, ctx) {
      const j = await owned(input.job_id, ctx.user);
      return { id: j.id, state: j.state, result: j.result ?? null, error: j.error };
    },
  });
  tools.register({
    name: 'cancel', risk: 'safe', description: 'Cancel a job that has not finished (and the jobs that wait on it)', inputSchema: obj(['job_id'], { job_id: jobId }),
    run: async (input: { job_id: string }, ctx) => jobView(await service.cancel(await owned(input.job_id, ctx.user)), 'summary'),
  });
  tools.register({
    name: 'comment', risk: 'safe', description: 'A progress note on a job (defaults to the job whose turn is calling)',
    inputSchema: obj(['text'], { job_id: jobId, text: { type: 'string', minLength: 1, maxLength: 20000 } }),
    async run(input: { job_id?: string; text: string }, ctx) {
      const j = await owned(jobOf(input, ctx, 'jobs.comment'), ctx.user);
      return store.commentLog.add(j.id, ctx.user.id, input.text, deps.clock.now());
    },
  });
  tools.register({
    name: 'block', risk: 'safe', inputSchema: BlockInput,
    description: 'Stop the current job and wait for a human: moves it to blocked with the reason. A person unblocks or redoes it.',
    async run(input: { reason: string; job_id?: string }, ctx) {
      const job = await owned(jobOf(input, ctx, 'jobs.block'), ctx.user);
      const next = await service.block(job, input.reason);
      return { id: next.id, state: next.state, reason: input.reason };
    },
  });
}
