import { tmux } from '../sdk';

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

/**
 * The general injector: tmux paste into the agent's pane. Leave copy mode, paste the envelope
 * (bracketed when the program asked for it, so the Enter below is not part of the paste), Enter,
 * then verify with `capture-pane` that the marker landed; one nudge (another Enter) if not.
 */
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
