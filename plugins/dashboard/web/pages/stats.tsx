import { useState } from 'preact/hooks';
import { api, q, unlessAbsent } from '../lib/api';
import { useLive } from '../lib/ws';
import { duration, num, usd } from '../lib/format';
import { Badge, Card, Empty, LiveData } from '../components';
import { BarChart, LineChart } from '../charts';
import type { PageProps } from '../app';

interface Recommendation { code: string; priority: 1 | 2 | 3; message: string }
const PRIORITY: Record<number, [string, string]> = { 3: ['high', 'bad'], 2: ['medium', 'warn'], 1: ['low', 'muted'] };

interface Bucket { start: string; turns: number; tokens: number; cost: number; avgLatencyMs: number; errors: number }

export function Stats(_: PageProps) {
  const [bucket, setBucket] = useState<'hour' | 'day'>('hour');
  const series = useLive(() => api.get<{ items: Bucket[] }>(`/api/stats/timeseries${q({ bucket })}`), ['agent.turn.completed'], [bucket]);
  const costs = useLive(() => api.get<{ items: any[]; total: any }>(`/api/stats/costs${q({ group: 'model' })}`), ['agent.turn.completed']);
  const efficiency = useLive(() => api.get<{ items: any[] }>('/api/stats/efficiency'), ['agent.turn.completed']);
  // null: the insights plugin is not enabled (its route is absent), and the card is left out.
  const recommendations = useLive(() => unlessAbsent(api.get<{ items: Recommendation[] }>('/api/recommendations')), ['agent.turn.completed']);
  const pts = (f: (b: Bucket) => number) => (series.data?.items ?? []).map(b => ({ t: Date.parse(b.start), v: f(b) }));
  return (
    <div class="page">
      <div class="title-row"><h1>Stats</h1>
        <div class="tabs">{(['hour', 'day'] as const).map(b => <button key={b} class={bucket === b ? 'tab active' : 'tab'} onClick={() => setBucket(b)}>per {b}</button>)}</div></div>
      {costs.data && (
        <div class="stats-row">
          <div class="stat"><small>Turns</small><b>{num(costs.data.total.turns)}</b></div>
          <div class="stat"><small>Input tokens</small><b>{num(costs.data.total.inputTokens)}</b></div>
          <div class="stat"><small>Output tokens</small><b>{num(costs.data.total.outputTokens)}</b></div>
          <div class="stat"><small>Cost</small><b>{usd(costs.data.total.cost)}</b></div>
        </div>
      )}
      <div class="grid-2">
        <Card title="Cost"><LiveData live={series}>{() => <LineChart label="Cost" points={pts(b => b.cost)} format={usd} />}</LiveData></Card>
        <Card title="Tokens"><LiveData live={series}>{() => <LineChart label="Tokens" points={pts(b => b.tokens)} format={v => num(v)} color="var(--ok)" />}</LiveData></Card>
        <Card title="Tokens by model"><LiveData live={costs}>{d => <BarChart label="tokens by model" rows={d.items.map(r => ({ label: r.model, value: r.inputTokens + r.outputTokens }))} format={v => num(v)} />}</LiveData></Card>
        <Card title="Turns"><LiveData live={series}>{() => <LineChart label="Turns" points={pts(b => b.turns)} format={v => num(v)} color="var(--warn)" />}</LiveData></Card>
      </div>
      {recommendations.data !== null && (
        <Card title="Recommendations">
          <LiveData live={recommendations}>{d => !d || d.items.length === 0 ? <Empty>No recommendations yet.</Empty> : (
            <table class="table" data-testid="recommendations"><tbody>{d.items.map((r, i) => (
              <tr key={i}><td><Badge value={PRIORITY[r.priority][0]} tone={PRIORITY[r.priority][1]} /></td><td>{r.message}</td></tr>
            ))}</tbody></table>
          )}</LiveData>
        </Card>
      )}
      <Card title="Per-model efficiency">
        <LiveData live={efficiency}>{d => d.items.length === 0 ? <Empty>No turns yet.</Empty> : (
          <table class="table" data-testid="efficiency"><thead><tr><th>Model</th><th>Turns</th><th>Latency</th><th>TTFT</th><th>Tokens/s</th><th>Cost/turn</th><th>Errors</th><th>Grade</th></tr></thead>
            <tbody>{d.items.map(m => (
              <tr key={m.model}><td><b>{m.model}</b></td><td>{num(m.turns)}</td><td>{duration(m.avgLatencyMs)}</td><td>{duration(m.avgTtftMs)}</td>
                <td>{num(m.outputTokensPerSecond, 1)}</td><td>{usd(m.costPerTurn)}</td><td>{num(m.errorRate * 100, 1)} %</td>
                <td>{m.averageGrade === null ? '—' : `${num(m.averageGrade, 1)} (${m.graded})`}</td></tr>
            ))}</tbody></table>
        )}</LiveData>
      </Card>
    </div>
  );
}
