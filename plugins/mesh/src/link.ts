import type { AuthService, KernelInfo, User } from 'plinth/sdk';
import { errors, pidStartTime, tmux } from 'plinth/sdk';
import { errorCodes } from './errors';
import type { InboxSockets } from './inbox';
import { backendHint, localSockets, startHook } from './panes';
import type { PeerRegistry } from './peer-registry';
import { listPanes } from './tmux-evidence';
import { viewPeer } from './peer-store';

export interface LinkDeps { peers: PeerRegistry; inbox: InboxSockets; auth: AuthService; kernel: KernelInfo; hookCommand: string[]; timeoutMs: number; now(): number }

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/**
 * Registers the agent in a pane and starts its hook. Success only when a live inbox connects in
 * time; otherwise everything is undone (the peer row, the pane's recorded id, the hook, its token)
 * and the answer is non-2xx — repowire answered 200 with `linked: false`.
 */
export async function linkPane(d: LinkDeps, user: User, paneId: string, body: { socket?: string; backend: string; name?: string; circle?: string }) {
  const sockets = body.socket ? [body.socket] : await localSockets();
  let found: { socket: string; pane: Awaited<ReturnType<typeof listPanes>>[number] } | undefined;
  for (const socket of sockets) {
    const pane = (await listPanes(socket)).find(p => p.pane_id === paneId);
    if (pane && found) throw errors.conflict(`pane ${paneId} exists on several tmux servers: name the socket`);
    if (pane) found = { socket, pane };
  }
  if (!found) throw errors.notFound(`pane ${paneId}`);
  const { socket, pane } = found;
  const hint = await backendHint(pane.pane_pid);
  const agentPid = hint.pid ?? pane.pane_pid;
  const agentStart = await pidStartTime(agentPid);
  if (!agentStart) throw errorCodes.error('PLINTH_ERR_MESH_NO_EVIDENCE', `no process ${agentPid} in pane ${paneId}`);
  const peer = await d.peers.register(user, {
    name: body.name ?? hint.backend ?? 'agent', circle: body.circle ?? pane.session, backend: body.backend,
    binding: { socket, server_started_at: pane.server_started_at, pane_id: paneId, pane_pid: pane.pane_pid, agent_pid: agentPid, agent_started_at: agentStart },
  });
  const token = await d.auth.createToken(user.id, { name: `mesh hook ${peer.id}` });
  let hook: { pid: number; kill(): void } | undefined;
  const rollback = async () => {
    hook?.kill();
    d.inbox.close(peer.id, 1000, 'link rolled back');
    await d.peers.store.remove(peer.id);
    await tmux(socket, ['set-option', '-p', '-u', '-t', paneId, '@plinth_peer_id']);
    await d.auth.revokeToken(token.id);
  };
  try {
    hook = await startHook(d.hookCommand,
      { TMUX: `${socket},0,0`, TMUX_PANE: paneId, PLINTH_URL: d.kernel.baseUrl(), PLINTH_TOKEN: token.token },
      ['peer', 'hook', '--backend', body.backend, '--name', peer.name, '--peer-id', peer.id, '--agent-pid', String(agentPid)]);
  } catch (err: any) {
    await rollback();
    throw errorCodes.error('PLINTH_ERR_MESH_HOOK_SPAWN_FAILED', `the hook could not be started: ${err.message}`, { cause: err, details: { repair: 'check the mesh plugin\'s hookCommand (the `plinth` CLI must be installed on this host)' } });
  }
  const end = d.now() + d.timeoutMs;
  while (!d.inbox.connected(peer.id) && d.now() < end) await sleep(50);
  if (!d.inbox.connected(peer.id)) {
    await rollback();
    throw errorCodes.error('PLINTH_ERR_MESH_TRANSPORT_UNESTABLISHED', `no inbox connected from pane ${paneId} within ${d.timeoutMs} ms; the link was rolled back`,
      { details: { repair: `run \`plinth peer hook --backend ${body.backend} --name <name>\` inside the pane and read its output` } });
  }
  await d.peers.store.update(peer.id, { hook_token_id: token.id });
  return { linked: true, peer: viewPeer((await d.peers.store.get(peer.id))!, d.now()), hook_pid: hook!.pid };
}
