import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/**
 * The two host probes the peer mesh trusts, shared by the kernel side (the mesh plugin's liveness
 * evidence) and the pane side (`plinth peer hook`) so both read a process and a tmux server the
 * same way.
 */

/** tmux on an explicit socket with TMUX unset, so it never talks to the caller's own server; 5 s at most. */
export function tmux(socket: string, args: string[]): Promise<{ ok: boolean; out: string; err: string }> {
  const env = { ...process.env };
  delete env.TMUX;
  return new Promise(resolve => execFile('tmux', ['-S', socket, ...args], { env, timeout: 5000 }, (error, out, err) =>
    resolve({ ok: !error, out: String(out), err: String(err || error?.message || '') })));
}

/**
 * Start time of a pid (clock ticks since boot, /proc/<pid>/stat field 22), `null` when there is no
 * such process or it is a zombie (killed, not yet reaped: no running agent). A pid and its start
 * time name one process; a pid alone may be reused by another.
 */
export async function pidStartTime(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' || fields[0] === 'X' ? null : fields[19] ?? null;
  } catch {
    return null;
  }
}
