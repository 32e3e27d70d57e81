import { errors } from 'plinth/sdk';

/** The process scope of a job that is not addressed to a long-lived process: one process per fire, released at its end. */
export const PER_FIRE = 'per_fire';
/** The scope of an agent job sent to the agent's running instance (`request.instance`): that instance's process. */
export const INSTANCE = 'instance';

/**
 * The peer daemon's defaults: `process_scope` is `per_fire` unless the job is assigned to an
 * agent's instance; `continuity` is `fresh` for a one-shot job and `resume` for a recurring one
 * (each fire of a cron schedule continues the session of the schedule's previous fire).
 */
export function jobDefaults(input: { request?: Record<string, unknown>; continuity?: 'fresh' | 'resume' | null; processScope?: string | null }, recurring = false) {
  const assigned = input.request?.instance === true;
  if (assigned && input.processScope === PER_FIRE) {
    throw errors.validation('process_scope per_fire starts a process per fire, but request.instance sends the job to the agent\'s running instance', [{ field: 'body/process_scope', message: 'per_fire with request.instance' }]);
  }
  return {
    continuity: input.continuity ?? (recurring ? 'resume' : 'fresh'),
    processScope: input.processScope ?? (assigned ? INSTANCE : PER_FIRE),
  } as const;
}
