import type { JobExecutor } from 'plinth/contracts/jobs';
import type { MeshMessaging } from './messaging';
import { NotifyBody } from './schemas';

/**
 * Job kind `peer_message`: a notify to a peer as a job, so a schedule (or a crew step) can send
 * one later — the peer daemon's schedule_create / schedule_cron / schedule_self, which scheduled
 * peer messages, map to `schedules.create` with `job: { kind: 'peer_message', request }`. It acts
 * as the job's owner; a peer without an inbox gets it queued durably, as any notify.
 */
export function peerMessageExecutor(messaging: MeshMessaging): JobExecutor {
  return {
    kind: 'peer_message',
    requestSchema: NotifyBody,
    run: ({ job, user }) => messaging.notify(user, job.request as { from?: string; to: string; text: string }),
  };
}
