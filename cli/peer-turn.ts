import { tmux } from '../sdk';

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/**
 * `plinth peer turn busy|idle`: run by the agent CLI's prompt-submit and stop hooks. It finds its
 * peer the way rehook trusts it — the pane's recorded `@plinth_peer_id`, not a cwd or a name — and
 * reports the turn to the kernel, bounded in time (the CLI waits for its hooks). Right after the
 * session starts the pane's hook may not have registered yet: it waits for the id a little.
 * Failures are exit 1, never 2 (Claude Code takes 2 as "block this prompt").
 */
export async function reportTurn(o: { url: string; token: string; turn: 'busy' | 'idle'; log: (line: string) => void; waitMs?: number }): Promise<number> {
  const [socket] = (process.env.TMUX ?? '').split(',');
  const pane = process.env.TMUX_PANE;
  if (!socket || !pane) { o.log('not inside tmux (TMUX and TMUX_PANE unset)'); return 1; }
  let peerId = '';
  for (const end = Date.now() + (o.waitMs ?? 2000); ;) {
    const r = await tmux(socket, ['show-options', '-p', '-v', '-t', pane, '@plinth_peer_id']);
    peerId = r.ok ? r.out.trim() : '';
    if (peerId || Date.now() > end) break;
    await sleep(100);
  }
  if (!peerId) { o.log(`pane ${pane} records no peer: its hook has not registered`); return 1; }
  try {
    const res = await fetch(`${o.url}/api/peers/${encodeURIComponent(peerId)}/turn`, {
      method: 'POST', headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ turn: o.turn, pane_id: pane }), signal: AbortSignal.timeout(3000),
    });
    if (res.ok) return 0;
    const body: any = await res.json().catch(() => ({}));
    o.log(`turn ${o.turn} refused (${res.status}): ${body.error?.code ?? ''} ${body.error?.message ?? ''}`);
  } catch (err: any) {
    o.log(`turn ${o.turn} not reported: kernel unreachable (${err.cause?.code ?? err.name})`);
  }
  return 1;
}
