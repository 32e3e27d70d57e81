import { api, q } from '../lib/api';
import { useLive } from '../lib/ws';
import { ago, json } from '../lib/format';
import { Action, Badge, Card, Empty, LiveData } from '../components';
import type { PageProps } from '../app';

/**
 * The channels plugin publishes no bus events, so this page reloads on plugin changes and polls
 * every 5 s (its API is admin-only; other users see the readable 403).
 */
export function Channels(_: PageProps) {
  const status = useLive(() => api.get<{ channels: any[] }>('/api/channels/status'), ['plugin.*'], [], 5000);
  const dead = useLive(() => api.get<{ items: any[] }>(`/api/channels/dead-letter${q({ limit: 50 })}`), ['plugin.*'], [], 5000);
  const pairings = useLive(() => api.get<{ items: any[] }>('/api/channels/pairings'), ['plugin.*'], [], 5000);
  return (
    <div class="page">
      <h1>Channels</h1>
      <Card title="Status">
        <LiveData live={status}>{d => d.channels.length === 0 ? <Empty>No channel adapters are registered.</Empty> : (
          <table class="table"><thead><tr><th>Channel</th><th>Configured</th><th>Last in / out</th><th>Inbound</th><th>Deliveries</th></tr></thead>
            <tbody>{d.channels.map((c: any) => (
              <tr key={c.name ?? c.channel}><td><b>{c.name ?? c.channel}</b> <Badge value={c.registered === false ? 'disconnected' : 'active'} /></td>
                <td>{c.configured === true ? 'yes' : String(c.configured ?? '—')}</td>
                <td>{ago(c.lastInbound ?? c.last_inbound)} / {ago(c.lastOutbound ?? c.last_outbound)}</td>
                <td class="mono small">{json(c.inbound ?? c.inboundCounts ?? '—', 200)}</td><td class="mono small">{json(c.deliveries ?? c.deliveryCounts ?? '—', 200)}</td></tr>
            ))}</tbody></table>
        )}</LiveData>
      </Card>
      <Card title="Dead letters">
        <LiveData live={dead}>{d => d.items.length === 0 ? <Empty>No dead letters.</Empty> : (
          <table class="table"><thead><tr><th>Delivery</th><th>Chat</th><th>Error</th><th>Attempts</th><th /></tr></thead>
            <tbody>{d.items.map((x: any) => (
              <tr key={x.id}><td class="mono">{x.id}<div class="sub">{x.channel}</div></td><td class="mono">{x.chat_id ?? x.chatId}</td>
                <td class="error-text">{x.last_error ?? x.error ?? '—'}</td><td>{x.attempts ?? '—'}</td>
                <td><Action onRun={async () => { await api.post(`/api/channels/dead-letter/${x.id}/replay`, {}); dead.reload(); }}>Replay</Action></td></tr>
            ))}</tbody></table>
        )}</LiveData>
      </Card>
      <Card title="Pairing requests">
        <LiveData live={pairings}>{d => d.items.length === 0 ? <Empty>No senders waiting to be paired.</Empty> : (
          <table class="table"><tbody>{d.items.map((p: any) => (
            <tr key={p.code}><td class="mono">{p.code}</td><td>{p.channel}</td><td>{p.sender_id ?? p.senderId ?? p.chat_id}</td><td><Badge value={p.state ?? p.status ?? 'pending'} /></td>
              <td><Action onRun={async () => { await api.post(`/api/channels/pairings/${p.code}/approve`, {}); pairings.reload(); }}>Approve</Action></td></tr>
          ))}</tbody></table>
        )}</LiveData>
      </Card>
    </div>
  );
}
