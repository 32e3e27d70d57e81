import { errors, type ToolRegistry } from 'plinth/sdk';
import type { JobService } from './job-service';
import type { JobStore } from './job-store';
import { ownedJob } from './routes';
import { BlockInput } from './schemas';

/** `jobs.block`: a job's agent hands the job to a human. */
export function registerTools(tools: ToolRegistry, { store, service }: { store: JobStore; service: JobService }): void {
  const owned = ownedJob(store);
  tools.register({
    name: 'block', risk: 'safe', inputSchema: BlockInput,
    description: 'Stop the current job and wait for a human: moves it to blocked with the reason. A person unblocks or redoes it.',
    async run(input: { reason: string; job_id?: string }, ctx) {
      const id = input.job_id ?? ctx.jobId ?? /^job:(.+)$/.exec(ctx.via ?? '')?.[1];
      if (!id) throw errors.badRequest('jobs.block needs a job: call it from a job\'s turn or pass job_id');
      const job = await owned(id, ctx.user);
      const next = await service.block(job, input.reason);
      return { id: next.id, state: next.state, reason: input.reason };
    },
  });
}
