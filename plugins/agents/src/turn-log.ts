import { decodeCursor, iso, pageOf, type Page, type SqlRunner } from 'plinth/sdk';
import { fromRow, type TurnRecord } from './turn-store';

export interface TurnFilter { owner?: string; sessionId?: string; agent?: string; model?: string; since?: string; until?: string }

/**
 * The agent runtime's views over the turns, newest first: which model each turn ran on and why
 * (the model selection log), and what each cost (the transactions).
 */
export class TurnLog {
  private readonly t: string;
  constructor(private readonly db: SqlRunner) {
    this.t = db.table('turns');
  }

  /** One page of finished turns matching `f`, newest first (created_at is ISO text here; the cursor carries it as epoch ms). */
  private async page(f: TurnFilter, limit: number, cursor: string | undefined): Promise<TurnRecord[]> {
    const { where, params } = this.scope(f);
    const after = decodeCursor(cursor);
    const keyset = after ? ' AND (created_at < ? OR (created_at = ? AND id < ?))' : '';
    const rows = await this.db.query(`SELECT * FROM ${this.t} WHERE ${where}${keyset} ORDER BY created_at DESC, id DESC LIMIT ?`,
      [...params, ...(after ? [iso(after.ms), iso(after.ms), after.id] : []), limit + 1]);
    return rows.map(fromRow);
  }

  async selections(f: TurnFilter, limit: number, cursor?: string): Promise<Page<ReturnType<typeof selectionOf>>> {
    return pageOf(await this.page(f, limit, cursor), limit, positionOf, selectionOf);
  }

  async transactions(f: TurnFilter, limit: number, cursor?: string) {
    const page = pageOf(await this.page(f, limit, cursor), limit, positionOf, transactionOf);
    const scope = this.scope(f);
    const [sum] = await this.db.query(`SELECT COUNT(*) AS n, COALESCE(SUM(cost), 0) AS cost FROM ${this.t} WHERE ${scope.where}`, scope.params);
    return { ...page, total: { turns: Number(sum.n), cost: Math.round(Number(sum.cost) * 1e6) / 1e6, currency: 'USD' } };
  }

  private scope(f: TurnFilter): { where: string; params: unknown[] } {
    const where = [`status <> 'running'`];
    const params: unknown[] = [];
    const equal: Array<[string, string | undefined]> = [['owner', f.owner], ['session_id', f.sessionId], ['agent', f.agent], ['model', f.model]];
    for (const [column, value] of equal) if (value !== undefined) { where.push(`${column} = ?`); params.push(value); }
    if (f.since) { where.push('created_at >= ?'); params.push(f.since); }
    if (f.until) { where.push('created_at < ?'); params.push(f.until); }
    return { where: where.join(' AND '), params };
  }
}

const positionOf = (t: TurnRecord) => ({ ms: Date.parse(t.created_at), id: t.id });

/** A turn's entry in the model selection log: the model asked for, the one chosen and why, the one that answered. */
function selectionOf(t: TurnRecord) {
  const s = t.model_selection as { requested?: string; chosen?: string | null; used?: string | null; reason?: string; candidates?: unknown[] };
  return {
    turnId: t.id, sessionId: t.session_id, agent: t.agent, at: t.created_at, requested: s.requested ?? t.model, chosen: s.chosen ?? null,
    used: s.used ?? t.model, reason: s.reason ?? null, candidates: s.candidates ?? [], status: t.status, via: t.via,
  };
}

/** A turn as a line of the spend ledger. */
function transactionOf(t: TurnRecord) {
  return {
    id: t.id, at: t.completed_at ?? t.created_at, sessionId: t.session_id, agent: t.agent, model: t.model, via: t.via, status: t.status,
    inputTokens: t.input_tokens, outputTokens: t.output_tokens, cost: t.cost, currency: 'USD',
  };
}
