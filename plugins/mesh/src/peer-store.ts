import { iso, newId, type PluginDatabase } from 'plinth/sdk';
import type { Binding } from './tmux-evidence';
import type { Inbound, Lifecycle, Runtime } from './lifecycle';

export interface PeerRow {
  id: string; owner: string; name: string; circle: string; role: string; backend: string; cwd: string | null; host: string;
  binding: Binding; runtime: Runtime; inbound: Inbound; lifecycle: Lifecycle; turn_state: string | null;
  description: string | null; description_until: number | null; last_seen: number; evidence_at: number | null;
  created_ms: number; retired_at: number | null;
  /** The API token the kernel minted for this peer's hook (link, rehook), if it did. */
  hook_token_id: string | null;
  /** The kernel holding the peer's inbox socket (several kernels on one database). */
  inbox_node: string | null;
}

export interface NewPeer { owner: string; name: string; circle: string; role: string; backend: string; cwd: string | null; host: string; binding: Binding }

const NUMS = ['description_until', 'last_seen', 'evidence_at', 'created_ms', 'retired_at'] as const;

function normalize(r: any): PeerRow {
  const row = { ...r, binding: JSON.parse(r.binding) };
  for (const k of NUMS) row[k] = r[k] === null || r[k] === undefined ? null : Number(r[k]);
  return row;
}

/** Peers and their lifecycle events (contradictions among them), in the plugin's namespace. */
export class PeerStore {
  private readonly peers: string;
  private readonly events: string;
  constructor(private readonly db: PluginDatabase) {
    this.peers = db.table('peers');
    this.events = db.table('peer_events');
  }

  /** Inserts with a unique name in the owner's circle: `name`, else `name-2`, `name-3`, … */
  async insert(p: NewPeer, now: number): Promise<PeerRow> {
    const id = newId('peer');
    const taken = new Set((await this.db.query(`SELECT name FROM ${this.peers} WHERE owner = ? AND circle = ? AND (name = ? OR name LIKE ?)`,
      [p.owner, p.circle, p.name, p.name + '-%'])).map((r: any) => r.name));
    let name = p.name;
    for (let i = 2; taken.has(name); i++) name = `${p.name}-${i}`;
    await this.db.query(`INSERT INTO ${this.peers} (id, owner, name, circle, role, backend, cwd, host, binding, runtime, inbound, lifecycle, last_seen, evidence_at, created_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'alive', 'none', 'registered', ?, ?, ?)`,
    [id, p.owner, name, p.circle, p.role, p.backend, p.cwd, p.host, JSON.stringify(p.binding), now, now, now]);
    return (await this.get(id))!;
  }

  async get(id: string): Promise<PeerRow | undefined> {
    const r = (await this.db.query(`SELECT * FROM ${this.peers} WHERE id = ?`, [id]))[0];
    return r ? normalize(r) : undefined;
  }

  async byName(owner: string, circle: string, name: string): Promise<PeerRow | undefined> {
    const r = (await this.db.query(`SELECT * FROM ${this.peers} WHERE owner = ? AND circle = ? AND name = ?`, [owner, circle, name]))[0];
    return r ? normalize(r) : undefined;
  }

  async list(filter: { owner?: string; circle?: string; backend?: string; lifecycle?: string[] }): Promise<PeerRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    for (const k of ['owner', 'circle', 'backend'] as const) if (filter[k]) { where.push(`${k} = ?`); params.push(filter[k]); }
    if (filter.lifecycle?.length) { where.push(`lifecycle IN (${filter.lifecycle.map(() => '?').join(', ')})`); params.push(...filter.lifecycle); }
    return (await this.db.query(`SELECT * FROM ${this.peers}${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY created_ms, id`, params)).map(normalize);
  }

  /** A guarded update: applied only while the lifecycle is still `expect` (when given). Answers whether it was. */
  async update(id: string, set: Partial<Omit<PeerRow, 'id' | 'owner'>>, expect?: Lifecycle): Promise<boolean> {
    const cols = Object.keys(set);
    if (!cols.length) return true;
    const values = cols.map(c => c === 'binding' ? JSON.stringify((set as any)[c]) : (set as any)[c]);
    const rows = await this.db.query(`UPDATE ${this.peers} SET ${cols.map(c => `${c} = ?`).join(', ')} WHERE id = ?${expect ? ' AND lifecycle = ?' : ''} RETURNING id`,
      [...values, id, ...(expect ? [expect] : [])]);
    return rows.length > 0;
  }

  async remove(id: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.peers} WHERE id = ?`, [id]);
  }

  async record(peerId: string, kind: string, detail: unknown, now: number): Promise<void> {
    await this.db.query(`INSERT INTO ${this.events} (id, peer_id, kind, detail, at) VALUES (?, ?, ?, ?, ?)`, [newId('pev'), peerId, kind, JSON.stringify(detail ?? null), now]);
  }

  async eventsOf(peerId: string, kind?: string): Promise<Array<{ kind: string; detail: unknown; at: string }>> {
    const rows = await this.db.query(`SELECT * FROM ${this.events} WHERE peer_id = ?${kind ? ' AND kind = ?' : ''} ORDER BY at, id`, kind ? [peerId, kind] : [peerId]);
    return rows.map((r: any) => ({ kind: r.kind, detail: JSON.parse(r.detail), at: iso(Number(r.at)) }));
  }
}

export function viewPeer(p: PeerRow, now: number) {
  const description = p.description && (!p.description_until || p.description_until > now) ? p.description : null;
  return {
    id: p.id, name: p.name, circle: p.circle, role: p.role, backend: p.backend, cwd: p.cwd, host: p.host, owner: p.owner,
    binding: p.binding, runtime: p.runtime, inbound: p.inbound, lifecycle: p.lifecycle, turn_state: p.turn_state,
    description, last_seen: iso(p.last_seen), created: iso(p.created_ms), retired_at: iso(p.retired_at),
  };
}
