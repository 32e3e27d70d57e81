import { useState } from 'preact/hooks';
import { api, q } from '../lib/api';
import { useLive } from '../lib/ws';
import { ago, clock } from '../lib/format';
import { Action, Badge, Card, Empty, Json, LiveData } from '../components';
import type { PageProps } from '../app';

interface Approval {
  id: string; kind?: string; tool: string; input: unknown; requester: string; state: string; reason?: string | null;
  question?: string; sessionId?: string | null; jobId?: string | null; createdAt: string; expiresAt: string; decidedBy?: string | null;
}

export function Approvals(_: PageProps) {
  const pending = useLive(() => api.get<{ items: Approval[] }>(`/api/approvals${q({ state: 'pending', limit: 100 })}`), ['approval.*']);
  const recent = useLive(() => api.get<{ items: Approval[] }>(`/api/approvals${q({ limit: 30 })}`), ['approval.*']);
  return (
    <div class="page">
      <h1>Approvals</h1>
      <Card title="Waiting for a decision">
        <LiveData live={pending}>{d => d.items.length === 0 ? <Empty>Nothing is waiting. Requests appear here as soon as a gated tool asks.</Empty> : (
          <div class="approvals" data-testid="pending-approvals">
            {d.items.map(a => <PendingApproval key={a.id} a={a} onDecided={() => { pending.reload(); recent.reload(); }} />)}
          </div>
        )}</LiveData>
      </Card>
      <Card title="Recent decisions">
        <LiveData live={recent}>{d => {
          const done = d.items.filter(a => a.state !== 'pending');
          return done.length === 0 ? <Empty>No decisions yet.</Empty> : (
            <table class="table">
              <thead><tr><th>Tool / question</th><th>State</th><th>Reason</th><th>Requested</th></tr></thead>
              <tbody>{done.map(a => (
                <tr key={a.id}><td><b>{a.tool || a.question || a.kind}</b><div class="sub mono">{a.id}</div></td>
                  <td><Badge value={a.state} /></td><td>{a.reason ?? '—'}</td><td title={clock(a.createdAt)}>{ago(a.createdAt)}</td></tr>
              ))}</tbody>
            </table>
          );
        }}</LiveData>
      </Card>
    </div>
  );
}

function PendingApproval({ a, onDecided }: { a: Approval; onDecided: () => void }) {
  const [reason, setReason] = useState('');
  const decide = (verb: 'approve' | 'deny') => async () => {
    await api.post(`/api/approvals/${a.id}/${verb}`, reason.trim() ? { reason: reason.trim() } : {});
    onDecided();
  };
  return (
    <div class="approval" data-approval={a.id}>
      <div class="approval-head">
        <b>{a.tool || a.question || 'question'}</b><Badge value={a.state} />
        <small class="muted">asked {ago(a.createdAt)} · expires {ago(a.expiresAt)}{a.sessionId ? ` · session ${a.sessionId}` : ''}{a.jobId ? ` · job ${a.jobId}` : ''}</small>
      </div>
      <Json value={a.input} max={2000} />
      <div class="row">
        <input class="grow" placeholder="Reason (optional)" value={reason} onInput={e => setReason(e.currentTarget.value)} data-testid="approval-reason" />
        <Action kind="primary" onRun={decide('approve')} testid="approve">Approve</Action>
        <Action kind="danger" onRun={decide('deny')} testid="deny">Deny</Action>
      </div>
    </div>
  );
}
