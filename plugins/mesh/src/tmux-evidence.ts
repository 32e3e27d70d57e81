import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
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

/** tmux with TMUX unset (never the caller's own server) on an explicit socket. */
export function tmux(socket: string, args: string[]): Promise<{ ok: boolean; out: string; err: string }> {
  const env = { ...process.env };
  delete env.TMUX;
  return new Promise(resolve => execFile('tmux', ['-S', socket, ...args], { env, timeout: 5000 }, (error, out, err) =>
    resolve({ ok: !error, out: String(out), err: String(err || error?.message || '') })));
}

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

/** Start time of a pid (clock ticks since boot, /proc/<pid>/stat field 22), `null` when no such process or a zombie. */
export async function pidStartTime(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie (killed, not yet reaped) is no running agent.
    return fields[0] === 'Z' || fields[0] === 'X' ? null : fields[19] ?? null;
  } catch {
    return null;
  }
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
