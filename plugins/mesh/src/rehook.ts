import { readFile } from 'node:fs/promises';
import { errors, pidStartTime, type User } from 'plinth/sdk';
import { errorCodes } from './errors';
import { CLOSE, type InboxSockets } from './inbox';
import type { LinkDeps } from './link';
import { startHook } from './panes';
import type { PeerRow } from './peer-store';
import { paneFacts } from './tmux-evidence';

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

const rehooking = new Set<string>();
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function isHook(pid: number): Promise<boolean> {
  try { return /\bpeer\0hook\b/.test(await readFile(`/proc/${pid}/cmdline`, 'utf8')); } catch { return false; }
}

/**
 * Replaces a deaf or missing hook: same host, the pane's recorded peer id as proof, never a
 * healthy inbox, one rehook per peer at a time. The old hook is stopped only if that pid still
 * runs `peer hook` (a reused pid is someone else's); SIGCONT first, since a stopped process
 * never sees SIGTERM.
 */
export async function applyRehook(d: LinkDeps, user: User, p: PeerRow) {
  if (p.lifecycle === 'retired') throw errorCodes.error('PLINTH_ERR_MESH_RETIRED', `peer ${p.id} is retired`);
  const plan = await planRehook(p, d.inbox, d.peers.host);
  if (plan.healthy_inbox) throw errors.conflict('the inbox is healthy: rehook leaves it alone', plan);
  if (!plan.pane_proof) throw errors.conflict('the pane does not record this peer id: nothing is replaced', plan);
  if (rehooking.has(p.id)) throw errors.conflict(`a rehook of ${p.id} is already running`);
  rehooking.add(p.id);
  try {
    const old = p.binding.hook_pid;
    if (old && plan.hook_alive && await isHook(old)) {
      try { process.kill(old, 'SIGTERM'); process.kill(old, 'SIGCONT'); } catch { /* gone */ }
      for (let i = 0; i < 20 && (await pidStartTime(old)) !== null; i++) await sleep(50);
      try { process.kill(old, 'SIGKILL'); } catch { /* gone */ }
    }
    d.inbox.close(p.id, CLOSE.REPLACED, 'rehook');
    const token = await d.auth.createToken(user.id, { name: `mesh hook ${p.id}` });
    let hook;
    try {
      hook = await startHook(d.hookCommand, { TMUX: `${p.binding.socket},0,0`, TMUX_PANE: p.binding.pane_id, PLINTH_URL: d.kernel.baseUrl(), PLINTH_TOKEN: token.token },
        ['peer', 'hook', '--backend', p.backend, '--name', p.name, '--peer-id', p.id, '--agent-pid', String(p.binding.agent_pid)]);
    } catch (err: any) {
      await d.auth.revokeToken(token.id);
      throw errorCodes.error('PLINTH_ERR_MESH_HOOK_SPAWN_FAILED', `the new hook could not be started: ${err.message}`, { cause: err });
    }
    const end = d.now() + d.timeoutMs;
    while (!d.inbox.connected(p.id) && d.now() < end) await sleep(50);
    if (!d.inbox.connected(p.id)) {
      hook.kill();
      await d.auth.revokeToken(token.id);
      throw errorCodes.error('PLINTH_ERR_MESH_TRANSPORT_UNESTABLISHED', `the new hook did not connect within ${d.timeoutMs} ms`, { details: { repair: 'run `plinth peer hook` inside the pane and read its output' } });
    }
    // The replaced hook's token (if the kernel minted one) goes with it; the new one is kept for retirement.
    if (p.hook_token_id) await d.auth.revokeToken(p.hook_token_id).catch(() => undefined);
    await d.peers.store.update(p.id, { hook_token_id: token.id });
    return { ...plan, apply: true, applied: true, stopped_hook_pid: old ?? null, hook_pid: hook.pid };
  } finally {
    rehooking.delete(p.id);
  }
}
