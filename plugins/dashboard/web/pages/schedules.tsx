import { useState } from 'preact/hooks';
import { api, q } from '../lib/api';
import { useLive } from '../lib/ws';
import { ago, clock } from '../lib/format';
import { Action, Badge, Card, Empty, Field, LiveData } from '../components';

interface Schedule {
  id: string; name: string | null; kind: 'cron' | 'at'; cron: string | null; timezone: string; at: string | null;
  enabled: boolean; nextRunAt: string | null; lastRunAt: string | null; target: any;
}

/** Schedules publish no bus events of their own: their fires show up as `job.updated`, and a slow poll keeps "next run" honest. */
export function Schedules() {
  const list = useLive(() => api.get<{ items: Schedule[] }>(`/api/schedules${q({ limit: 200 })}`), ['job.updated'], [], 15_000);
  const [name, setName] = useState('');
  const [cron, setCron] = useState('*/5 * * * *');
  const [command, setCommand] = useState('echo scheduled');
  return (
    <>
      <Card title="Schedules">
        <LiveData live={list}>{d => d.items.length === 0 ? <Empty>No schedules.</Empty> : (
          <table class="table" data-testid="schedules">
            <thead><tr><th>Name</th><th>When</th><th>Next run</th><th>Last run</th><th>State</th><th /></tr></thead>
            <tbody>{d.items.map(s => (
              <tr key={s.id} data-schedule={s.id}>
                <td><b>{s.name ?? s.id}</b><div class="sub">{s.target?.template ? `template ${s.target.template}` : s.target?.job?.kind}</div></td>
                <td class="mono">{s.kind === 'cron' ? `${s.cron} (${s.timezone})` : clock(s.at)}</td>
                <td title={clock(s.nextRunAt)}>{s.nextRunAt ? ago(s.nextRunAt) : '—'}</td>
                <td title={clock(s.lastRunAt)}>{ago(s.lastRunAt)}</td>
                <td><Badge value={s.enabled ? 'enabled' : 'disabled'} /></td>
                <td class="right nowrap">
                  <Action onRun={async () => { await api.post(`/api/schedules/${s.id}/${s.enabled ? 'disable' : 'enable'}`); list.reload(); }}>{s.enabled ? 'Disable' : 'Enable'}</Action>
                  <Action kind="primary" onRun={async () => { await api.post(`/api/schedules/${s.id}/run-now`); list.reload(); }}>Run now</Action>
                </td>
              </tr>
            ))}</tbody>
          </table>
        )}</LiveData>
      </Card>
      <Card title="New schedule">
        <div class="form-grid">
          <Field label="Name"><input value={name} onInput={e => setName(e.currentTarget.value)} /></Field>
          <Field label="Cron (UTC)"><input class="mono" value={cron} onInput={e => setCron(e.currentTarget.value)} /></Field>
          <Field label="Command"><input class="mono" value={command} onInput={e => setCommand(e.currentTarget.value)} /></Field>
        </div>
        <Action kind="primary" onRun={async () => {
          await api.post('/api/schedules', { ...(name.trim() ? { name: name.trim() } : {}), cron, job: { kind: 'command', request: { command } } });
          list.reload();
        }}>Create schedule</Action>
      </Card>
    </>
  );
}
