import { useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useLive } from '../lib/ws';
import { ago } from '../lib/format';
import { Action, Badge, Card, Empty, Field, LiveData } from '../components';
import type { PageProps } from '../app';

/** MCP clients and A2A peers; neither plugin publishes events, so both reload on plugin changes and poll. */
export function Integrations(_: PageProps) {
  const mcp = useLive(() => api.get<{ items: any[] }>('/api/runtime/mcp'), ['plugin.*'], [], 5000);
  const peers = useLive(() => api.get<{ items: any[] }>('/api/a2a/peers'), ['plugin.*'], [], 15000);
  const [name, setName] = useState('');
  const [cardUrl, setCardUrl] = useState('');
  return (
    <div class="page">
      <h1>MCP &amp; A2A</h1>
      <Card title="MCP clients">
        <LiveData live={mcp}>{d => d.items.length === 0 ? <Empty>No MCP servers configured (config <code>mcpServers</code> of the mcp plugin).</Empty> : (
          <table class="table"><thead><tr><th>Server</th><th>State</th><th>Tools</th><th>Last error</th><th /></tr></thead>
            <tbody>{d.items.map(c => (
              <tr key={c.name}><td><b>{c.name}</b> <small class="muted">{c.transport}</small></td><td><Badge value={c.state} />{c.nextRetryAt && <small class="muted"> retry {ago(c.nextRetryAt)}</small>}</td>
                <td class="mono small">{Array.isArray(c.tools) ? c.tools.map((t: any) => t.name ?? t).join(', ') : c.tools}</td><td class="error-text">{c.lastError ?? ''}</td>
                <td class="nowrap"><Action onRun={async () => { await api.post(`/api/runtime/mcp/clients/${c.name}/discover`, {}); mcp.reload(); }}>Discover</Action>
                  <Action kind="danger" onRun={async () => { await api.post(`/api/runtime/mcp/clients/${c.name}/disconnect`, {}); mcp.reload(); }}>Disconnect</Action></td></tr>
            ))}</tbody></table>
        )}</LiveData>
      </Card>
      <Card title="A2A peers">
        <LiveData live={peers}>{d => d.items.length === 0 ? <Empty>No peers yet.</Empty> : (
          <table class="table"><thead><tr><th>Peer</th><th>Card</th><th>Agent</th></tr></thead>
            <tbody>{d.items.map(p => (
              <tr key={p.name}><td><b>{p.name}</b> <small class="muted">{p.source ?? ''}</small></td><td class="mono small">{p.cardUrl}</td><td>{p.card?.name ?? p.agentName ?? '—'}</td></tr>
            ))}</tbody></table>
        )}</LiveData>
        <div class="form-grid">
          <Field label="Name"><input value={name} onInput={e => setName(e.currentTarget.value)} /></Field>
          <Field label="Agent card URL"><input value={cardUrl} placeholder="https://…/.well-known/agent-card.json" onInput={e => setCardUrl(e.currentTarget.value)} /></Field>
        </div>
        <Action kind="primary" disabled={!name.trim() || !cardUrl.trim()} onRun={async () => { await api.post('/api/a2a/hello', { name: name.trim(), cardUrl: cardUrl.trim() }); peers.reload(); }}>Add peer</Action>
      </Card>
    </div>
  );
}
