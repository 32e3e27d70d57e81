import { api } from '../lib/api';
import { useLive } from '../lib/ws';
import { Action, Badge, Card, Empty, LiveData } from '../components';
import type { PageProps } from '../app';

interface Skill { id: string; name: string; description: string; source?: string; plugin?: string | null; enabled?: boolean; tools?: string[]; shadows?: unknown[] }

export function Skills({ me }: PageProps) {
  const skills = useLive(() => api.get<{ items: Skill[]; problems: Array<{ file: string; reason: string }> }>('/api/skills'), ['skills.changed']);
  const audit = useLive(() => api.get<{ items: Array<{ id: string; status: string }> }>('/api/skills/audit').catch(() => ({ items: [] })), ['skills.changed']);
  const status = new Map((audit.data?.items ?? []).map(a => [a.id, a.status]));
  return (
    <div class="page">
      <div class="title-row"><h1>Skills</h1>
        <Action disabled={me.role !== 'admin'} onRun={async () => { await api.post('/api/skills/reload', {}); skills.reload(); audit.reload(); }}>Reload skills</Action></div>
      <Card title="Loaded skills">
        <LiveData live={skills}>{d => (
          <>
            {d.items.length === 0 ? <Empty>No skills. Add a folder with a SKILL.md under the data dir's skills/.</Empty> : (
              <table class="table"><thead><tr><th>Skill</th><th>Source</th><th>Tools</th><th>Integrity</th></tr></thead>
                <tbody>{d.items.map(s => (
                  <tr key={s.id}><td><b>{s.name}</b> <small class="mono muted">{s.id}</small><div class="sub">{s.description}</div></td>
                    <td>{s.plugin ?? s.source ?? '—'}</td><td class="mono">{(s.tools ?? []).join(', ') || '—'}</td><td><Badge value={status.get(s.id) ?? '—'} /></td></tr>
                ))}</tbody></table>
            )}
            {d.problems.length > 0 && <><h3>Problems</h3><ul class="list">{d.problems.map(p => <li key={p.file}><span class="mono">{p.file}</span>: <span class="error-text">{p.reason}</span></li>)}</ul></>}
          </>
        )}</LiveData>
      </Card>
    </div>
  );
}
