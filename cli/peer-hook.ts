import { hostname } from 'node:os';
import WebSocket from 'ws';
import { pidStartTime, tmux } from '../sdk';
import { envelope, injectIntoPane } from './peer-tmux';

export interface HookOptions {
  url: string; token: string; backend: string; name: string; circle?: string; role?: string; peerId?: string; agentPid: number;
  log: (line: string) => void;
}

/** Close codes after which the hook exits instead of reconnecting (mesh plugin's inbox.ts). */
const FINAL = new Set([4410, 4404]);
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Capped, jittered exponential backoff: 250 ms doubling to 30 s, each wait 50–100 % of that. */
export function backoff(attempt: number, capMs = 30_000): number {
  const full = Math.min(capMs, 250 * 2 ** Math.min(attempt, 20));
  return Math.round(full / 2 + Math.random() * full / 2);
}

/**
 * `plinth peer hook`: registers the pane's agent, holds the inbox WebSocket, injects what arrives
 * into the pane, answers pings, and watches the agent pid. It never gives up on the kernel
 * (repowire's clients stopped after 50 reconnects and delivery died silently, #84); it exits
 * only when the agent is gone or the kernel says the peer is retired or unknown.
 */
export async function runHook(o: HookOptions): Promise<number> {
  const [socket] = (process.env.TMUX ?? '').split(',');
  const pane = process.env.TMUX_PANE;
  if (!socket || !pane) { o.log('not inside tmux (TMUX and TMUX_PANE unset)'); return 2; }
  const facts = await tmux(socket, ['display-message', '-p', '-t', pane, '#{pane_pid}\t#{start_time}']);
  const agentStart = await pidStartTime(o.agentPid);
  if (!facts.ok || !agentStart) { o.log(`no evidence: ${facts.err.trim() || 'agent pid not running'}`); return 2; }
  const [panePid, serverStart] = facts.out.trim().split('\t');
  const binding = { socket, server_started_at: serverStart, pane_id: pane, pane_pid: Number(panePid), agent_pid: o.agentPid, agent_started_at: agentStart, hook_pid: process.pid };
  const headers = { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' };

  let peerId = o.peerId;
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`${o.url}/api/peers`, { method: 'POST', headers, body: JSON.stringify({ peer_id: peerId, name: o.name, circle: o.circle, role: o.role, backend: o.backend, cwd: process.cwd(), host: hostname(), binding }) });
      const body: any = await res.json().catch(() => ({}));
      if (res.ok) { peerId = body.id; o.log(`registered ${body.id} as ${body.name}`); break; }
      if (res.status < 500) { o.log(`registration refused (${res.status}): ${body.error?.code} ${body.error?.message}`); return 3; }
    } catch (err: any) { o.log(`degraded: kernel unreachable (${err.cause?.code ?? err.message})`); }
    await sleep(backoff(attempt));
  }

  let stopped = false;
  let current: WebSocket | undefined;
  const watch = setInterval(() => void pidStartTime(o.agentPid).then(s => {
    if (s !== agentStart) {
      o.log('agent gone: exiting');
      stopped = true;
      current?.close(1000, 'agent gone');
      // Also out of a backoff sleep: the hook must not outlive its agent.
      setTimeout(() => process.exit(0), 300).unref();
    }
  }), 500);
  try {
    for (let attempt = 0; !stopped; attempt++) {
      const code = await new Promise<number>(resolve => {
        const ws = new WebSocket(`${o.url.replace(/^http/, 'ws')}/api/mesh/ws?peer_id=${encodeURIComponent(peerId!)}`, { headers: { authorization: headers.authorization } });
        current = ws;
        ws.on('open', () => ws.send(JSON.stringify({ type: 'connect', peer_id: peerId, pane_id: pane })));
        ws.on('message', raw => void onFrame(ws, JSON.parse(String(raw))).catch(err => o.log(`frame failed: ${err.message}`)));
        ws.on('error', err => o.log(`degraded: ${err.message}`));
        ws.on('close', c => resolve(c));
      });
      if (FINAL.has(code)) { o.log(`kernel closed the inbox (${code}): exiting`); return 3; }
      if (stopped) break;
      o.log(`degraded: inbox closed (${code}); reconnecting`);
      await sleep(backoff(attempt));
    }
    return 0;
  } finally {
    clearInterval(watch);
  }

  async function onFrame(ws: WebSocket, f: any) {
    if (f.type === 'connected') { o.log(`connected as ${f.peer_id}`); return; }
    if (f.type === 'ping') {
      const alive = await tmux(socket, ['display-message', '-p', '-t', pane!, '#{pane_id}']);
      // Tri-state: a tmux that cannot be asked is no proof either way.
      const paneAlive = alive.ok ? alive.out.trim() === pane : /can't find|no server/i.test(alive.err) ? false : null;
      ws.send(JSON.stringify({ type: 'pong', nonce: f.nonce, pane_alive: paneAlive }));
      return;
    }
    if (f.type === 'ask' || f.type === 'notify' || f.type === 'broadcast') {
      const id = f.correlation_id ?? f.delivery_id;
      const type = f.type === 'notify' && f.kind === 'reply' ? 'reply' : f.type;
      const text = envelope({ from: f.from?.name ?? '?', to: f.to?.name ?? '?', type, id, delivery: f.delivery_id, text: String(f.text ?? '') });
      // The marker is this delivery's id: a correlation id may already be on screen.
      const r = await injectIntoPane(socket, pane!, text, f.delivery_id);
      ws.send(JSON.stringify({ type: 'delivery_ack', delivery_id: f.delivery_id, result: r.ok ? 'injected' : 'failed', detail: r.detail }));
    }
  }
}
