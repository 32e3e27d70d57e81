import { iso, keysetPage, newId, type PluginDatabase } from 'plinth/sdk';

export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired';

export interface Question {
  text: string;
  type: 'text' | 'boolean' | 'number' | 'choice';
  choices?: string[];
  toolPermission: boolean;
}

export interface ApprovalRequest {
  id: string;
  kind: 'tool' | 'question';
  tool: string | null;
  input: unknown;
  question: Question | null;
  requester: string;
  sessionId: string | null;
  jobId: string | null;
  turnId: string | null;
  via: string | null;
  risk: string | null;
  state: ApprovalState;
  createdAt: string;
  expiresAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  reason: string | null;
  answer: unknown;
}

export interface AuditEntry {
  id: string;
  kind: 'tool' | 'policy';
  turnId: string | null;
  tool: string | null;
  userId: string;
  requestId: string | null;
  decision: string;
  detail: unknown;
  at: string;
}

const parse = (text: unknown) => (text === null || text === undefined ? null : JSON.parse(String(text)));

function toRequest(r: any): ApprovalRequest {
  return {
    id: r.id, kind: r.kind, tool: r.tool ?? null, input: parse(r.input), question: parse(r.question), requester: r.requester,
    sessionId: r.session_id ?? null, jobId: r.job_id ?? null, turnId: r.turn_id ?? null, via: r.via ?? null, risk: r.risk ?? null,
    state: r.state, createdAt: iso(r.created_ms)!, expiresAt: iso(r.expires_ms)!, decidedBy: r.decided_by ?? null,
    decidedAt: iso(r.decided_ms), reason: r.reason ?? null, answer: parse(r.answer),
  };
}

/** Every request and decision lives in the database, never only in memory, so a restart loses none. */
export class ApprovalStore {
  private readonly t: string;
  private readonly audit: string;
  constructor(private readonly db: PluginDatabase) {
    this.t = db.table('requests');
    this.audit = db.table('audit');
  }

  async create(input: Omit<ApprovalRequest, 'id' | 'createdAt' | 'expiresAt' | 'decidedAt'> & { createdMs: number; expiresMs: number; decidedMs?: number | null }): Promise<ApprovalRequest> {
    const id = newId('apr');
    const [row] = await this.db.query(
      `INSERT INTO ${this.t} (id, kind, tool, input, question, requester, session_id, job_id, turn_id, via, risk, state, created_ms, expires_ms, decided_by, decided_ms, reason, answer)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      [id, input.kind, input.tool, JSON.stringify(input.input ?? null), input.question ? JSON.stringify(input.question) : null, input.requester,
        input.sessionId, input.jobId, input.turnId, input.via, input.risk, input.state, input.createdMs, input.expiresMs,
        input.decidedBy, input.decidedMs ?? null, input.reason, input.answer === undefined || input.answer === null ? null : JSON.stringify(input.answer)],
    );
    return toRequest(row);
  }

  async get(id: string): Promise<ApprovalRequest | undefined> {
    const [row] = await this.db.query(`SELECT * FROM ${this.t} WHERE id = ?`, [id]);
    return row ? toRequest(row) : undefined;
  }

  /** Decides a pending request; the state check in the UPDATE makes a second decision lose (→ undefined). */
  async decide(id: string, d: { state: Exclude<ApprovalState, 'pending'>; by: string; reason: string | null; answer?: unknown; atMs: number }): Promise<ApprovalRequest | undefined> {
    const [row] = await this.db.query(
      `UPDATE ${this.t} SET state = ?, decided_by = ?, reason = ?, answer = ?, decided_ms = ? WHERE id = ? AND state = 'pending' RETURNING *`,
      [d.state, d.by, d.reason, d.answer === undefined ? null : JSON.stringify(d.answer), d.atMs, id],
    );
    return row ? toRequest(row) : undefined;
  }

  async pendingDue(nowMs: number, limit = 200): Promise<string[]> {
    return (await this.db.query(`SELECT id FROM ${this.t} WHERE state = 'pending' AND expires_ms <= ? ORDER BY expires_ms LIMIT ${limit}`, [nowMs])).map(r => r.id);
  }

  async pending(): Promise<ApprovalRequest[]> {
    return (await this.db.query(`SELECT * FROM ${this.t} WHERE state = 'pending' ORDER BY expires_ms`)).map(toRequest);
  }

  async states(ids: string[]): Promise<ApprovalRequest[]> {
    if (!ids.length) return [];
    return (await this.db.query(`SELECT * FROM ${this.t} WHERE state <> 'pending' AND id IN (${ids.map(() => '?').join(', ')})`, ids)).map(toRequest);
  }

  async list(filter: { owner?: string; state?: string; kind?: string; limit: number; cursor?: { ms: number; id: string } }): Promise<ApprovalRequest[]> {
    const rows = await keysetPage(this.db, { table: this.t, equal: { requester: filter.owner, state: filter.state, kind: filter.kind }, cursor: filter.cursor, limit: filter.limit });
    return rows.map(toRequest);
  }

  async addAudit(e: Omit<AuditEntry, 'id' | 'at'> & { atMs: number }): Promise<void> {
    await this.db.query(`INSERT INTO ${this.audit} (id, kind, turn_id, tool, user_id, request_id, decision, detail, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [newId('aud'), e.kind, e.turnId, e.tool, e.userId, e.requestId, e.decision, JSON.stringify(e.detail ?? null), e.atMs]);
  }

  async auditFor(turnId: string, kind: 'tool' | 'policy', owner: string | undefined): Promise<AuditEntry[]> {
    const rows = await this.db.query(
      `SELECT * FROM ${this.audit} WHERE turn_id = ? AND kind = ?${owner ? ' AND user_id = ?' : ''} ORDER BY at_ms, id`,
      owner ? [turnId, kind, owner] : [turnId, kind]);
    return rows.map(r => ({ id: r.id, kind: r.kind, turnId: r.turn_id, tool: r.tool, userId: r.user_id, requestId: r.request_id, decision: r.decision, detail: parse(r.detail), at: iso(r.at_ms)! }));
  }
}
