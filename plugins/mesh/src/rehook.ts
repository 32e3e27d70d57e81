import { errorCodes } from './errors';
import type { InboxSockets } from './inbox';
import type { PeerRow } from './peer-store';
import { paneFacts, pidStartTime } from './tmux-evidence';

/**
 * What a rehook would do. Proof that the pane is the peer's is the peer id the pane records
 * (`@plinth_peer_id`, set at registration), not a cwd or a name; a healthy inbox is never touched.
 */
export async function planRehook(p: PeerRow, inbox: InboxSockets, host: string) {
  if (p.host !== host) throw errorCodes.error('PLINTH_ERR_MESH_NOT_LOCAL', `peer ${p.id} runs on ${p.host}`);
  const pane = await paneFacts(p.binding.socket, p.binding.pane_id);
  const socket = inbox.state(p.id);
  const healthy = !!socket && socket.unanswered < 2;
  const hookAlive = p.binding.hook_pid ? (await pidStartTime(p.binding.hook_pid)) !== null : false;
  const proof = !!pane && pane.peer_id === p.id;
  const steps: string[] = [];
  if (!healthy && proof) {
    if (hookAlive) steps.push(`stop the deaf hook (pid ${p.binding.hook_pid})`);
    steps.push(`start \`plinth peer hook --peer-id ${p.id}\` for pane ${p.binding.pane_id}`);
  }
  return {
    peer_id: p.id, apply: false, healthy_inbox: healthy, pane_proof: proof, hook_pid: p.binding.hook_pid ?? null, hook_alive: hookAlive,
    steps, reason: healthy ? 'the inbox is healthy: nothing to do' : !proof ? 'the pane does not record this peer id: not replacing anything' : 'the inbox is missing or deaf',
  };
}
