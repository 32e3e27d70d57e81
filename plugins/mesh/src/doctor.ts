import type { AskStore } from './ask-store';
import type { InboxSockets } from './inbox';
import type { PeerRow } from './peer-store';
import { readEvidence } from './tmux-evidence';

export interface Contradiction { code: string; severity: 'error' | 'warning'; detail: string }

/**
 * What the kernel knows about a peer against what the host shows. Read-only: it repairs nothing
 * (repowire's doctor repaired while it read); `repairs` lists what `?repair=true` would do.
 */
export async function diagnose(p: PeerRow, inbox: InboxSockets, asks: AskStore, now: number, staleAskMs: number) {
  const ev = await readEvidence(p.binding);
  const socket = inbox.state(p.id);
  const pending = await asks.pending({ peer: p.id, direction: 'both' });
  const c: Contradiction[] = [];
  const add = (code: string, severity: Contradiction['severity'], detail: string) => c.push({ code, severity, detail });
  if ((p.lifecycle === 'online' || p.lifecycle === 'busy') && !socket) add('ONLINE_BUT_NO_INBOUND', 'error', `lifecycle ${p.lifecycle} but no inbox socket`);
  if (ev.pane === null) add('PANE_MISSING', 'error', `pane ${p.binding.pane_id} is not on ${p.binding.socket}`);
  if (!ev.agentAlive) add('AGENT_PID_DEAD', 'error', `agent pid ${p.binding.agent_pid} (started ${p.binding.agent_started_at}) is not running`);
  if (ev.pane && ev.pane.peer_id && ev.pane.peer_id !== p.id) add('HOOK_PEERID_MISMATCH', 'error', `the pane records peer ${ev.pane.peer_id}`);
  if (ev.serverRestarted) add('TMUX_SERVER_RESTARTED', 'error', `tmux server started ${ev.pane!.server_started_at}, bound to ${p.binding.server_started_at}`);
  if (ev.paneReused) add('PANE_REUSED', 'error', `pane ${p.binding.pane_id} exists but its pid or server differ (pid ${ev.pane!.pane_pid}, bound ${p.binding.pane_pid})`);
  if (socket && socket.unanswered >= 2) add('TRANSPORT_STALE', 'error', `${socket.unanswered} pings unanswered`);
  if (p.lifecycle === 'retired' && socket) add('RETIRED_BUT_CONNECTED', 'error', 'a retired peer holds an inbox');
  for (const a of pending) if (now - a.created_ms > staleAskMs) add('STALE_PENDING_ASK', 'warning', `ask ${a.id} open since ${new Date(a.created_ms).toISOString()}`);
  const repairs: string[] = [];
  if (c.some(x => ['PANE_MISSING', 'AGENT_PID_DEAD', 'PANE_REUSED', 'TMUX_SERVER_RESTARTED'].includes(x.code)) && p.lifecycle !== 'offline' && p.lifecycle !== 'retired') repairs.push('mark offline (runtime gone)');
  if (c.some(x => x.code === 'ONLINE_BUT_NO_INBOUND')) repairs.push('mark offline (no inbox)');
  return {
    identity: { id: p.id, name: p.name, circle: p.circle, owner: p.owner, backend: p.backend, role: p.role },
    binding: p.binding,
    tmux: ev.pane === undefined ? { state: 'unknown' } : ev.pane === null ? { state: 'missing' } : { state: 'present', ...ev.pane },
    hook: { peer_id_in_pane: ev.pane?.peer_id || null, hook_pid: p.binding.hook_pid ?? null },
    agent_pid_alive: ev.agentAlive,
    runtime: ev.runtime, lifecycle: p.lifecycle,
    inbound: { state: p.inbound, socket: !!socket, unanswered_pings: socket?.unanswered ?? null, last_pong: socket?.lastPong ? new Date(socket.lastPong).toISOString() : null, pane_alive: socket?.paneAlive ?? null },
    pending_asks: pending.map(a => ({ correlation_id: a.id, direction: a.to_peer === p.id ? 'inbound' : 'outbound', created: new Date(a.created_ms).toISOString() })),
    contradictions: c,
    repairs,
  };
}
