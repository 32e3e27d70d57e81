import { useState } from 'preact/hooks';
import { api, unlessAbsent } from '../lib/api';
import { href } from '../lib/router';
import { useEvents, useLive, type BusEvent } from '../lib/ws';
import { ago, clock, json } from '../lib/format';
import { Action, Badge, Card, Empty, LiveData } from '../components';
import type { PageProps } from '../app';

interface PluginSummary {
  id: string; version: string | null; description: string | null; status: string; error: string | null;
  generation: number | null; counts: { routes: number; tools: number; ws: number }; lastReload: any;
}

export function Overview({ me }: PageProps) {
  const health = useLive(() => api.get('/api/health'), ['plugin.*'], [], 10_000);
  const plugins = useLive(() => api.get<{ items: PluginSummary[] }>('/api/plugins'), ['plugin.*']);
  const [recent, setRecent] = useState<BusEvent[]>([]);
  useEvents(['*'], e => setRecent(r => [e, ...r].slice(0, 40)));
  const admin = me.role === 'admin';
  // First start: until an admin has applied the setup interview, the overview offers it.
  const setup = useLive(() => (admin ? unlessAbsent(api.get<{ completed: boolean }>('/api/interview/status')) : Promise.resolve(null)), ['plugin.*']);

  return (
    <div class="page">
      <h1>Overview</h1>
      {setup.data && !setup.data.completed && (
        <Card title="New here? Set up Plinth">
          <p data-testid="setup-offer">A short interview sets up a model, your first agent and a channel; nothing changes until you confirm. <a {...href('/settings')}>Start it in Settings</a>.</p>
        </Card>
      )}
      <div class="stats-row">
        <LiveData live={health}>{h => (
          <>
            <div class="stat"><small>Health</small><b><Badge value={h.status} /></b></div>
            <div class="stat"><small>Kernel</small><b>v{h.version}</b></div>
            <div class="stat"><small>Uptime</small><b>{Math.round(h.uptime / 60)} min</b></div>
          </>
        )}</LiveData>
        {plugins.data && (
          <>
            <div class="stat"><small>Plugins active</small><b>{plugins.data.items.filter(p => p.status === 'active').length} / {plugins.data.items.length}</b></div>
            <div class="stat"><small>With errors</small><b class={plugins.data.items.some(p => p.error) ? 'bad-text' : ''}>{plugins.data.items.filter(p => p.error).length}</b></div>
          </>
        )}
      </div>
      <div class="grid-2 wide-left">
        <Card title="Plugins">
          <LiveData live={plugins}>{d => (
            <table class="table" data-testid="plugins">
              <thead><tr><th>Plugin</th><th>Status</th><th>Routes · tools</th><th /></tr></thead>
              <tbody>
                {d.items.map(p => (
                  <tr key={p.id} data-plugin={p.id}>
                    <td><b>{p.id}</b> <small class="muted">{p.version}</small><div class="sub ellipsis desc" title={p.description ?? ''}>{p.description}</div>
                      {p.error && <div class="error-text">{p.error}</div>}</td>
                    <td><Badge value={p.status} />{p.generation !== null && <small class="muted"> gen {p.generation}</small>}</td>
                    <td class="nowrap">{p.counts.routes} · {p.counts.tools}</td>
                    <td class="nowrap right">
                      <Action disabled={!admin} title={admin ? '' : 'admins only'} testid={`toggle-${p.id}`}
                        onRun={async () => {
                          const enabled = p.status === 'disabled';
                          if (!enabled && p.id === 'dashboard' && !confirm('Disable the dashboard? This page stops working.')) return;
                          await api.put(`/api/plugins/${p.id}/toggle`, { enabled });
                          plugins.reload();
                        }}>{p.status === 'disabled' ? 'Enable' : 'Disable'}</Action>
                      <Action disabled={!admin || p.status === 'disabled'} onRun={async () => { await api.post(`/api/plugins/${p.id}/reload`); plugins.reload(); }}>Reload</Action>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}</LiveData>
        </Card>
        <Card title="Recent events">
          {recent.length === 0 ? <Empty>Events appear here as they happen.</Empty> : (
            <ul class="events" data-testid="recent-events">
              {recent.map(e => (
                <li key={e.id}><span class="topic">{e.topic}</span><time title={clock(e.time)}>{ago(e.time)}</time>
                  <div class="sub mono">{json(e.payload, 160).replace(/\s+/g, ' ')}</div></li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </div>
  );
}
