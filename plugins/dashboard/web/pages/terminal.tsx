import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api';

/**
 * A run's PTY in xterm.js over `/api/terminal?run_id=…&ticket=…` (the kernel redeems the ticket
 * on upgrade). xterm is loaded on first use so it does not weigh on the first page load. A run
 * that is not running has no PTY: then its stored log (`/api/runs/:id/logs`) is shown instead.
 */
export function RunTerminal({ runId, live }: { runId: string; live: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState('loading terminal…');
  useEffect(() => {
    let disposed = false;
    let ws: WebSocket | undefined;
    let cleanup = () => undefined as void;
    (async () => {
      const [{ Terminal }, { FitAddon }] = await Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit')]);
      if (disposed || !host.current) return;
      const term = new Terminal({ convertEol: false, fontSize: 13, cursorBlink: live, theme: { background: '#0f1115' }, scrollback: 5000 });
      const fit = new FitAddon();
      term.loadAddon(fit);
      term.open(host.current);
      fit.fit();
      const onResize = () => { fit.fit(); if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows })); };
      addEventListener('resize', onResize);
      cleanup = () => { removeEventListener('resize', onResize); ws?.close(); term.dispose(); };
      if (!live) {
        const text = await api.get<string>(`/api/runs/${runId}/logs`).catch(err => `(no log: ${err.message})`);
        term.write(String(text).replace(/\r?\n/g, '\r\n'));
        setStatus('stored output (the run is not running)');
        return;
      }
      const { ticket } = await api.post<{ ticket: string }>('/api/ws/ticket');
      if (disposed) return;
      ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/terminal?run_id=${encodeURIComponent(runId)}&ticket=${encodeURIComponent(ticket)}&cols=${term.cols}&rows=${term.rows}`);
      ws.onmessage = m => {
        const f = JSON.parse(String(m.data));
        if (f.type === 'output') term.write(f.data);
        else if (f.type === 'ready') { setStatus('attached'); onResize(); }
        else if (f.type === 'exit') setStatus(`exited with ${f.exit_code}`);
        else if (f.type === 'error') setStatus(`error: ${f.message}`);
      };
      ws.onclose = e => setStatus(s => (s === 'attached' ? `closed${e.reason ? `: ${e.reason}` : ''}` : s));
      term.onData(data => { if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'input', data })); });
    })().catch(err => setStatus(`terminal failed: ${err.message}`));
    return () => { disposed = true; cleanup(); };
  }, [runId, live]);
  return (
    <div class="terminal-wrap">
      <div class="terminal" ref={host} data-testid="terminal" />
      <small class="muted">{status}</small>
    </div>
  );
}
