import { useState } from 'preact/hooks';
import { api, q } from '../lib/api';
import { useLive } from '../lib/ws';
import { ago } from '../lib/format';
import { Badge, Card, Empty, LiveData } from '../components';
import type { PageProps } from '../app';

interface Entry { id: string; kind: string; text: string; snippet?: string; category: string | null; key: string | null; source: string | null; occurred_at: string | null; created_at: string; score?: number }

/** `<mark>` in a search snippet, rendered as elements (never as HTML: the text is the user's). */
function Snippet({ text }: { text: string }) {
  const parts = text.split(/(<mark>.*?<\/mark>)/g);
  return <>{parts.map((p, i) => p.startsWith('<mark>') ? <mark key={i}>{p.slice(6, -7)}</mark> : <span key={i}>{p}</span>)}</>;
}

export function Memory(_: PageProps) {
  const [query, setQuery] = useState('');
  const [kind, setKind] = useState('');
  const [submitted, setSubmitted] = useState('');
  // Memory publishes nothing itself; the turns and jobs it records from do.
  const results = useLive(
    () => submitted ? api.get<{ items: Entry[] }>(`/api/memory/search${q({ q: submitted, kind, limit: 50 })}`) : api.get<{ items: Entry[] }>(`/api/memory/episodic${q({ limit: 20 })}`),
    ['agent.turn.completed', 'job.updated'], [submitted, kind]);
  const categories = useLive(() => api.get<{ items: Array<{ category: string; count: number }> }>('/api/memory/semantic/categories'), ['agent.turn.completed']);
  return (
    <div class="page">
      <h1>Memory</h1>
      <form class="row" onSubmit={e => { e.preventDefault(); setSubmitted(query.trim()); }}>
        <input class="grow" type="search" placeholder="Search memory" value={query} onInput={e => setQuery(e.currentTarget.value)} data-testid="memory-query" />
        <select value={kind} onChange={e => setKind(e.currentTarget.value)}><option value="">all kinds</option><option>working</option><option>episodic</option><option>semantic</option></select>
        <button class="primary" type="submit">Search</button>
      </form>
      <div class="grid-2 wide-left">
        <Card title={submitted ? `Results for “${submitted}”` : 'Latest episodes'}>
          <LiveData live={results}>{d => d.items.length === 0 ? <Empty>Nothing found.</Empty> : (
            <ul class="entries" data-testid="memory-results">{d.items.map(e => (
              <li key={e.id}><div class="row"><Badge value={e.kind} tone="info" />{e.category && <small class="mono">{e.category}/{e.key}</small>}<small class="muted">{ago(e.occurred_at ?? e.created_at)}{e.source ? ` · ${e.source}` : ''}</small></div>
                <div><Snippet text={e.snippet ?? e.text} /></div></li>
            ))}</ul>
          )}</LiveData>
        </Card>
        <Card title="Fact categories">
          <LiveData live={categories}>{d => d.items.length === 0 ? <Empty>No facts yet.</Empty> : (
            <ul class="list">{d.items.map(c => <li key={c.category}><b>{c.category}</b> <small class="muted">{c.count}</small></li>)}</ul>
          )}</LiveData>
        </Card>
      </div>
    </div>
  );
}
