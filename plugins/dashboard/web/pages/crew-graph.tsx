import { api } from '../lib/api';
import { useLive } from '../lib/ws';
import { navigate } from '../lib/router';
import { LiveData } from '../components';

interface GraphJob { id: string; title: string | null; kind: string; state: string; step: string | null; dependsOn: string[] }

const STATE_COLOURS: Record<string, string> = {
  done: 'var(--ok)', running: 'var(--accent)', ready: 'var(--accent)', failed: 'var(--bad)', blocked: 'var(--warn)',
  queued: 'var(--muted)', cancelled: 'var(--muted)', archived: 'var(--muted)',
};

/** Layers by longest path from a root, so every edge points right; drawn as SVG. */
export function layout(jobs: GraphJob[]): Map<string, { layer: number; row: number }> {
  const byId = new Map(jobs.map(j => [j.id, j]));
  const depth = new Map<string, number>();
  const visit = (id: string, seen: Set<string>): number => {
    if (depth.has(id)) return depth.get(id)!;
    if (seen.has(id)) return 0;
    seen.add(id);
    const j = byId.get(id);
    const d = j && j.dependsOn.length ? 1 + Math.max(...j.dependsOn.filter(p => byId.has(p)).map(p => visit(p, seen)), -1) : 0;
    depth.set(id, d);
    return d;
  };
  for (const j of jobs) visit(j.id, new Set());
  const rows = new Map<number, number>();
  const out = new Map<string, { layer: number; row: number }>();
  for (const j of jobs) {
    const layer = depth.get(j.id) ?? 0;
    const row = rows.get(layer) ?? 0;
    rows.set(layer, row + 1);
    out.set(j.id, { layer, row });
  }
  return out;
}

export function CrewGraph({ jobId }: { jobId: string }) {
  const graph = useLive(() => api.get<{ jobs: GraphJob[] }>(`/api/jobs/${jobId}/graph`), ['job.updated'], [jobId]);
  return (
    <LiveData live={graph}>{d => {
      const pos = layout(d.jobs);
      const NW = 150; const NH = 40; const GX = 50; const GY = 16;
      const layers = Math.max(...[...pos.values()].map(p => p.layer), 0) + 1;
      const rows = Math.max(...[...pos.values()].map(p => p.row), 0) + 1;
      const W = layers * NW + (layers - 1) * GX + 8; const H = rows * NH + (rows - 1) * GY + 8;
      const at = (id: string) => { const p = pos.get(id)!; return { x: 4 + p.layer * (NW + GX), y: 4 + p.row * (NH + GY) }; };
      return (
        <svg class="crew" viewBox={`0 0 ${W} ${H}`} style={{ maxWidth: `${W}px` }} role="img" aria-label="crew graph" data-testid="crew-graph">
          <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="var(--muted)" /></marker></defs>
          {d.jobs.flatMap(j => j.dependsOn.filter(p => pos.has(p)).map(p => {
            const a = at(p); const b = at(j.id);
            const x1 = a.x + NW; const y1 = a.y + NH / 2; const x2 = b.x; const y2 = b.y + NH / 2;
            return <path key={`${p}-${j.id}`} d={`M${x1},${y1}C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2 - 2},${y2}`} fill="none" stroke="var(--muted)" stroke-width="1.5" marker-end="url(#arrow)" />;
          }))}
          {d.jobs.map(j => {
            const { x, y } = at(j.id);
            const label = j.step ?? j.title ?? j.kind;
            return (
              <g key={j.id} transform={`translate(${x} ${y})`} class="node" onClick={() => navigate(`/jobs/${j.id}`)}>
                <rect width={NW} height={NH} rx="6" fill="var(--panel)" stroke={STATE_COLOURS[j.state] ?? 'var(--muted)'} stroke-width={j.id === jobId ? 3 : 1.5} />
                <text x="10" y="17" class="node-title">{label.length > 18 ? `${label.slice(0, 17)}…` : label}</text>
                <text x="10" y="32" class="node-sub" fill={STATE_COLOURS[j.state]}>{j.state}</text>
              </g>
            );
          })}
        </svg>
      );
    }}</LiveData>
  );
}
