import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PeerRow } from './peer-store';
import { listPanes, type PaneFacts } from './tmux-evidence';

/** The sockets of this user's tmux servers: `$TMUX_TMPDIR/tmux-<uid>/*` (tmux's own rule). */
export async function localSockets(): Promise<string[]> {
  const dir = join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid?.() ?? 0}`);
  try { return (await readdir(dir)).map(n => join(dir, n)); } catch { return []; }
}

const AGENTS: Array<[RegExp, string]> = [[/claude/i, 'claude-code'], [/codex/i, 'codex'], [/opencode/i, 'opencode'], [/gemini/i, 'gemini']];

/** The pane's process tree from /proc (pid → children), with each process's command line. */
async function processTree(root: number): Promise<Array<{ pid: number; cmd: string }>> {
  const children = new Map<number, number[]>();
  const cmds = new Map<number, string>();
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
      cmds.set(Number(name), (await readFile(`/proc/${name}/cmdline`, 'utf8')).split('\0').join(' ').trim());
    } catch { /* gone meanwhile */ }
  }
  const out: Array<{ pid: number; cmd: string }> = [];
  const walk = (pid: number, depth: number) => {
    out.push({ pid, cmd: cmds.get(pid) ?? '' });
    if (depth < 6) for (const c of children.get(pid) ?? []) walk(c, depth + 1);
  };
  walk(root, 0);
  return out;
}

/** A backend guessed from the pane's process tree: for display only, never proof of anything. */
export async function backendHint(panePid: number): Promise<{ backend: string | null; pid: number | null }> {
  for (const p of await processTree(panePid)) {
    for (const [re, backend] of AGENTS) if (re.test(p.cmd)) return { backend, pid: p.pid };
  }
  return { backend: null, pid: null };
}

export interface OrphanPane extends PaneFacts { socket: string; stale_binding: string | null; backend_hint: string | null }

/** Panes bound to no live peer; a pane bound to an offline or retired peer is listed as a stale binding. */
export async function orphanPanes(peers: PeerRow[]): Promise<OrphanPane[]> {
  const out: OrphanPane[] = [];
  for (const socket of await localSockets()) {
    for (const pane of await listPanes(socket)) {
      const bound = peers.find(p => p.binding.socket === socket && p.binding.pane_id === pane.pane_id && p.binding.server_started_at === pane.server_started_at && p.binding.pane_pid === pane.pane_pid);
      if (bound && bound.lifecycle !== 'offline' && bound.lifecycle !== 'retired') continue;
      out.push({ ...pane, socket, stale_binding: bound ? bound.id : null, backend_hint: (await backendHint(pane.pane_pid)).backend });
    }
  }
  return out;
}

/**
 * Starts `plinth peer hook` for a pane, detached. It runs as the kernel's OS user and outside the
 * process sandbox: it must reach the pane's tmux socket and the kernel on loopback, and it is
 * Plinth's own program with fixed arguments (no user-chosen command); what it may do is bounded by
 * the API token of the user who linked the pane, revoked when the link is rolled back.
 */
export function startHook(command: string[], env: Record<string, string>, args: string[]): Promise<{ pid: number; kill(): void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], [...command.slice(1), ...args], { env: { ...process.env, ...env }, detached: true, stdio: 'ignore' });
    child.once('error', reject);
    child.once('spawn', () => {
      child.unref();
      resolve({ pid: child.pid!, kill: () => { try { process.kill(child.pid!, 'SIGTERM'); } catch { /* gone */ } } });
    });
  });
}
