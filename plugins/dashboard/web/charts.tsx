/** Charts drawn as inline SVG: a time series line with area, and horizontal bars. */

export interface Point { t: number; v: number }

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function LineChart(props: { points: Point[]; format: (v: number) => string; label: string; color?: string; height?: number }) {
  const W = 560; const H = props.height ?? 180; const L = 56; const R = 12; const T = 12; const B = 26;
  const pts = [...props.points].sort((a, b) => a.t - b.t);
  if (!pts.length) return <div class="chart-empty">No data yet for {props.label.toLowerCase()}.</div>;
  // One bucket alone sits in the middle of an hour either side.
  const single = pts[pts.length - 1].t === pts[0].t;
  const t0 = single ? pts[0].t - 3600_000 : pts[0].t; const t1 = single ? pts[0].t + 3600_000 : pts[pts.length - 1].t;
  const max = niceMax(Math.max(...pts.map(p => p.v)));
  const x = (t: number) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (v: number) => T + (1 - v / max) * (H - T - B);
  const line = pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  const area = `${line}L${x(pts[pts.length - 1].t).toFixed(1)},${y(0)}L${x(pts[0].t).toFixed(1)},${y(0)}Z`;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map(f => f * max);
  const color = props.color ?? 'var(--accent)';
  const fmtT = (t: number) => new Date(t).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit' });
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.label}>
      {ticks.map(v => (
        <g key={v}>
          <line x1={L} x2={W - R} y1={y(v)} y2={y(v)} class="grid" />
          <text x={L - 6} y={y(v) + 4} text-anchor="end" class="axis">{props.format(v)}</text>
        </g>
      ))}
      <text x={L} y={H - 6} class="axis">{fmtT(t0)}</text>
      <text x={W - R} y={H - 6} text-anchor="end" class="axis">{fmtT(t1)}</text>
      <path d={area} fill={color} opacity="0.12" />
      <path d={line} fill="none" stroke={color} stroke-width="2" stroke-linejoin="round" />
      {pts.map(p => <circle key={p.t} cx={x(p.t)} cy={y(p.v)} r="3" fill={color}><title>{`${fmtT(p.t)}: ${props.format(p.v)}`}</title></circle>)}
    </svg>
  );
}

export function BarChart(props: { rows: Array<{ label: string; value: number }>; format: (v: number) => string; label: string }) {
  if (!props.rows.length) return <div class="chart-empty">No data yet.</div>;
  const W = 560; const row = 26; const L = 150; const R = 80;
  const H = props.rows.length * row + 8;
  const max = niceMax(Math.max(...props.rows.map(r => r.value)));
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.label}>
      {props.rows.map((r, i) => {
        const w = max ? (r.value / max) * (W - L - R) : 0;
        return (
          <g key={r.label} transform={`translate(0 ${i * row + 4})`}>
            <text x={L - 8} y={15} text-anchor="end" class="axis">{r.label.length > 22 ? `${r.label.slice(0, 21)}…` : r.label}</text>
            <rect x={L} y={3} width={Math.max(w, 1)} height={16} rx="3" fill="var(--accent)" opacity="0.8" />
            <text x={L + w + 6} y={15} class="axis">{props.format(r.value)}</text>
          </g>
        );
      })}
    </svg>
  );
}
