import { pidStartTime, tmux } from 'plinth/sdk';
import type { Runtime } from './lifecycle';

/**
 * Process evidence read on this host: a pane on one tmux server (its socket and its start time,
 * because pane ids `%N` restart with the server — repowire #392 took a new `%3` for the old one),
 * and an agent pid with its start time (a reused pid is not the agent).
 */
export interface Binding {
  socket: string;
  server_started_at: string;
  pane_id: string;
  pane_pid: number;
  agent_pid: number;
  agent_started_at: string;
  hook_pid?: number;
}

export interface PaneFacts { pane_id: string; pane_pid: number; server_started_at: string; peer_id: string; session: string; command: string; cwd: string; window_id: string }

const FORMAT = '#{pane_id}\t#{pane_pid}\t#{start_time}\t#{@plinth_peer_id}\t#{session_name}\t#{pane_current_command}\t#{pane_current_path}\t#{window_id}';

function parsePane(line: string): PaneFacts {
  const [pane_id, pid, started, peer_id, session, command, cwd, window_id] = line.split('\t');
  return { pane_id, pane_pid: Number(pid), server_started_at: started, peer_id: peer_id ?? '', session, command, cwd, window_id };
}

/** The pane's facts, `null` when the pane or its server is gone, `undefined` when tmux could not tell. */
export async function paneFacts(socket: string, paneId: string): Promise<PaneFacts | null | undefined> {
  const r = await tmux(socket, ['list-panes', '-a', '-F', FORMAT]);
  if (!r.ok) return /no server running|error connecting|No such file/i.test(r.err) ? null : undefined;
  return r.out.split('\n').filter(Boolean).map(parsePane).find(p => p.pane_id === paneId) ?? null;
}

export async function listPanes(socket: string): Promise<PaneFacts[]> {
  const r = await tmux(socket, ['list-panes', '-a', '-F', FORMAT]);
  return r.ok ? r.out.split('\n').filter(Boolean).map(parsePane) : [];
}

export interface Evidence {
  runtime: Runtime;
  pane: PaneFacts | null | undefined;
  agentAlive: boolean;
  paneReused: boolean;
  serverRestarted: boolean;
}

/** Runtime evidence: alive only when the agent (pid and start time) and the pane on that server both are. */
export async function readEvidence(b: Binding): Promise<Evidence> {
  const [pane, agentStart] = await Promise.all([paneFacts(b.socket, b.pane_id), pidStartTime(b.agent_pid)]);
  const agentAlive = agentStart !== null && agentStart === b.agent_started_at;
  const serverRestarted = !!pane && pane.server_started_at !== b.server_started_at;
  const paneReused = !!pane && (serverRestarted || pane.pane_pid !== b.pane_pid);
  let runtime: Runtime;
  if (!agentAlive || pane === null || paneReused) runtime = 'gone';
  else runtime = pane === undefined ? 'unknown' : 'alive';
  return { runtime, pane, agentAlive, paneReused, serverRestarted };
}
