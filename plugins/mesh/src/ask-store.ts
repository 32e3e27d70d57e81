import { iso, newId, type PluginDatabase } from 'plinth/sdk';

export type CloseReason = 'ack' | 'ack_with_message' | 'reply_to' | 'declined' | 'expired' | 'send_failed' | 'recipient_retired';

export interface AskRow {
  id: string; owner: string; from_peer: string; to_peer: string; text: string; reply_to: string | null; question: unknown;
  state: 'open' | 'closed'; close_reason: CloseReason | null; reply: string | null; reply_via: 'push' | 'pull' | null;
  created_ms: number; expires_at: number; closed_at: number | null;
}

export interface QueuedRow { id: string; to_peer: string; frame: Record<string, unknown>; trace_id: string; created_ms: number; expires_at: number }

function askRow(r: any): AskRow {
  return { ...r, question: r.question ? JSON.parse(r.question) : null, created_ms: Number(r.created_ms), expires_at: Number(r.expires_at), closed_at: r.closed_at === null ? null : Number(r.closed_at) };
}

let lastSeq = 0;
/** Monotonic within this process, so stages written in one millisecond keep their order. */
function nextSeq(now: number): number { lastSeq = Math.max(lastSeq + 1, now * 1000); return lastSeq; }

/** Asks, queued notifies and the trace ledger: everything the mesh must not lose on a restart. */
export class AskStore {
  private readonly asks: string;
  private readonly queued: string;
  private readonly stages: string;
  constructor(private readonly db: PluginDatabase) {
    this.asks = db.table('asks');
    this.queued = db.table('queued');
    this.stages = db.table('trace_stages');
  }

  async insertAsk(a: { owner: string; from: string; to: string; text: string; replyTo?: string; question?: unknown; expiresAt: number }, now: number): Promise<AskRow> {
    const id = newId('ask');
    await this.db.query(`INSERT INTO ${this.asks} (id, owner, from_peer, to_peer, text, reply_to, question, state, created_ms, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)`,
      [id, a.owner, a.from, a.to, a.text, a.replyTo ?? null, a.question === undefined ? null : JSON.stringify(a.question), now, a.expiresAt]);
    return (await this.getAsk(id))!;
  }

  async getAsk(id: string): Promise<AskRow | undefined> {
    const r = (await this.db.query(`SELECT * FROM ${this.asks} WHERE id = ?`, [id]))[0];
    return r ? askRow(r) : undefined;
  }

  /** Closes an open ask once: answers the closed row, or undefined when it was closed already. */
  async closeAsk(id: string, reason: CloseReason, now: number, reply?: { text: string; via: 'push' | 'pull' }): Promise<AskRow | undefined> {
    const r = (await this.db.query(`UPDATE ${this.asks} SET state = 'closed', close_reason = ?, closed_at = ?, reply = ?, reply_via = ? WHERE id = ? AND state = 'open' RETURNING *`,
      [reason, now, reply?.text ?? null, reply?.via ?? null, id]))[0];
    return r ? askRow(r) : undefined;
  }

  async pending(filter: { peer: string; direction: 'inbound' | 'outbound' | 'both' }): Promise<AskRow[]> {
    const cond = filter.direction === 'inbound' ? 'to_peer = ?' : filter.direction === 'outbound' ? 'from_peer = ?' : '(to_peer = ? OR from_peer = ?)';
    const params = filter.direction === 'both' ? [filter.peer, filter.peer] : [filter.peer];
    return (await this.db.query(`SELECT * FROM ${this.asks} WHERE state = 'open' AND ${cond} ORDER BY created_ms, id`, params)).map(askRow);
  }

  async expiredAsks(now: number): Promise<AskRow[]> {
    return (await this.db.query(`SELECT * FROM ${this.asks} WHERE state = 'open' AND expires_at <= ? ORDER BY expires_at LIMIT 500`, [now])).map(askRow);
  }

  // ------------------------------------------------------------ queued notifies

  async countQueued(peer: string): Promise<number> {
    return Number((await this.db.query(`SELECT COUNT(*) AS n FROM ${this.queued} WHERE to_peer = ?`, [peer]))[0].n);
  }

  async enqueue(q: { id: string; to: string; frame: Record<string, unknown>; traceId: string; expiresAt: number }, now: number): Promise<void> {
    await this.db.query(`INSERT INTO ${this.queued} (id, to_peer, frame, trace_id, created_ms, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
      [q.id, q.to, JSON.stringify(q.frame), q.traceId, now, q.expiresAt]);
  }

  async queuedFor(peer: string, now: number): Promise<QueuedRow[]> {
    const rows = await this.db.query(`SELECT * FROM ${this.queued} WHERE to_peer = ? AND expires_at > ? ORDER BY created_ms, id`, [peer, now]);
    return rows.map((r: any) => ({ ...r, frame: JSON.parse(r.frame), created_ms: Number(r.created_ms), expires_at: Number(r.expires_at) }));
  }

  /** Takes a queued row for delivery; false when another worker (or kernel) already did. */
  async take(id: string): Promise<boolean> {
    return (await this.db.query(`DELETE FROM ${this.queued} WHERE id = ? RETURNING id`, [id])).length > 0;
  }

  async expireQueued(now: number): Promise<Array<{ id: string; trace_id: string; to_peer: string }>> {
    return this.db.query(`DELETE FROM ${this.queued} WHERE expires_at <= ? RETURNING id, trace_id, to_peer`, [now]);
  }

  // ------------------------------------------------------------ traces (the channels ledger's shape)

  async stage(traceId: string, subjectId: string, owner: string, stage: string, now: number, detail?: unknown, error?: string): Promise<void> {
    await this.db.query(`INSERT INTO ${this.stages} (id, trace_id, subject_id, owner, stage, at, seq, detail, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [newId('stg'), traceId, subjectId, owner, stage, now, nextSeq(now), detail === undefined ? null : JSON.stringify(detail), error ?? null]);
  }

  /** By trace (correlation) id or by delivery id; `owners` limits to what the caller may see (undefined: all). */
  async trace(id: string, owners?: string[]) {
    const rows = await this.db.query(`SELECT * FROM ${this.stages} WHERE trace_id IN (SELECT trace_id FROM ${this.stages} WHERE trace_id = ? OR subject_id = ?) ORDER BY seq, id`, [id, id]);
    if (!rows.length || (owners && !rows.some((r: any) => owners.includes(r.owner)))) return undefined;
    return {
      id: rows[0].trace_id, kind: 'mesh',
      stages: rows.map((r: any) => ({ stage: r.stage, subjectId: r.subject_id, at: iso(r.at), detail: r.detail ? JSON.parse(r.detail) : null, error: r.error })),
    };
  }
}

export function viewAsk(a: AskRow) {
  return {
    correlation_id: a.id, from: a.from_peer, to: a.to_peer, text: a.text, reply_to: a.reply_to, question: a.question, state: a.state,
    close_reason: a.close_reason, reply: a.reply, reply_via: a.reply_via, created: iso(a.created_ms), expires: iso(a.expires_at), closed: iso(a.closed_at),
  };
}
