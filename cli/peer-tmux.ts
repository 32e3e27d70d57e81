import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/**
 * The general injector: tmux paste into the agent's pane. Leave copy mode, paste the envelope
 * (bracketed when the program asked for it, so the Enter below is not part of the paste), Enter,
 * then verify with `capture-pane` that the marker landed; one nudge (another Enter) if not.
 */
export function tmux(socket: string, args: string[]): Promise<{ ok: boolean; out: string; err: string }> {
  const env = { ...process.env };
  delete env.TMUX;
  return new Promise(resolve => execFile('tmux', ['-S', socket, ...args], { env, timeout: 5000 }, (error, out, err) =>
    resolve({ ok: !error, out: String(out), err: String(err || error?.message || '') })));
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, '&#10;');

/** One line, escaped, so a message cannot close its own envelope or press Enter early. */
export function envelope(f: { from: string; to: string; type: string; id: string; delivery: string; text: string }): string {
  return `<peer-message from="${escapeAttr(f.from)}" to="${escapeAttr(f.to)}" type="${escapeAttr(f.type)}" correlation-id="${escapeAttr(f.id)}" delivery-id="${escapeAttr(f.delivery)}">${escapeAttr(f.text)}</peer-message>`;
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function landed(socket: string, pane: string, marker: string): Promise<boolean> {
  const r = await tmux(socket, ['capture-pane', '-p', '-J', '-t', pane, '-S', '-200']);
  return r.ok && r.out.includes(marker);
}

export async function injectIntoPane(socket: string, pane: string, text: string, marker: string): Promise<{ ok: boolean; detail?: string }> {
  const mode = await tmux(socket, ['display-message', '-p', '-t', pane, '#{pane_in_mode}']);
  if (!mode.ok) return { ok: false, detail: `pane ${pane}: ${mode.err.trim()}` };
  if (mode.out.trim() === '1') await tmux(socket, ['send-keys', '-t', pane, '-X', 'cancel']);
  const buffer = `plinth-${process.pid}-${marker}`;
  const set = await tmux(socket, ['set-buffer', '-b', buffer, '--', text]);
  if (!set.ok) return { ok: false, detail: set.err.trim() };
  const paste = await tmux(socket, ['paste-buffer', '-p', '-d', '-r', '-b', buffer, '-t', pane]);
  if (!paste.ok) return { ok: false, detail: paste.err.trim() };
  await tmux(socket, ['send-keys', '-t', pane, 'Enter']);
  for (let nudged = false; ; nudged = true) {
    for (let i = 0; i < 15; i++) {
      if (await landed(socket, pane, marker)) return { ok: true };
      await sleep(100);
    }
    if (nudged) return { ok: false, detail: 'the message did not show in the pane' };
    await tmux(socket, ['send-keys', '-t', pane, 'Enter']);
  }
}

/** Start time of a pid (/proc/<pid>/stat field 22), null when there is no such process. */
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
