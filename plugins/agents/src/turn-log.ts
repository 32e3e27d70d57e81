import { decodeCursor, iso, pageOf, type Page, type SqlRunner } from 'plinth/sdk';
import { fromRow, type TurnRecord } from './turn-store';

export interface TurnFilter { owner?: string; sessionId?: string; agent?: string; model?: string; since?: string; until?: string }

/**
 * The agent runtime's views over the turns: which model each turn ran on and why (the model
 * selection log), what each cost (the transactions), and prompt-cache hits and misses.
 */
export class TurnLog {
  private readonly t: string;
  /** `written`: waits for the proxied calls' turns still being written behind, so that a view includes them. */
  constructor(private readonly db: SqlRunner, private readonly now: () => number, private readonly written: () => Promise<void> = async () => undefined) {
    this.t = db.table('turns');
  }

  /** One page of finished turns matching `f`, newest first (created_at is ISO text here; the cursor carries it as epoch ms). */
  private async page(f: TurnFilter, limit: number, cursor: string | undefined): Promise<TurnRecord[]> {
    await this.written();
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

  /**
   * Prompt-cache figures per model as providers reported them: a turn that read from the cache is a
   * hit, one that reported reading nothing a miss; turns whose provider reports no cache figures
   * (the builtin model, many local servers) are counted apart (`unreported`), not as misses.
   */
  async cache(f: TurnFilter) {
    await this.written();
    const { where, params } = this.scope(f);
    const rows = await this.db.query(
      `SELECT model, COUNT(*) AS turns, SUM(CASE WHEN cache_read_tokens IS NULL AND cache_write_tokens IS NULL THEN 1 ELSE 0 END) AS unreported,
        SUM(CASE WHEN cache_read_tokens > 0 THEN 1 ELSE 0 END) AS hits, COALESCE(SUM(cache_read_tokens), 0) AS read_tokens,
        COALESCE(SUM(cache_write_tokens), 0) AS write_tokens, COALESCE(SUM(input_tokens), 0) AS input_tokens
       FROM ${this.t} WHERE ${where} GROUP BY model ORDER BY model`, params);
    const items = rows.map(r => cacheFigures({
      model: r.model, turns: Number(r.turns), unreported: Number(r.unreported), hits: Number(r.hits),
      cacheReadTokens: Number(r.read_tokens), cacheWriteTokens: Number(r.write_tokens), inputTokens: Number(r.input_tokens),
    }));
    const sum = (k: 'turns' | 'unreported' | 'hits' | 'cacheReadTokens' | 'cacheWriteTokens' | 'inputTokens') => items.reduce((n, i) => n + i[k], 0);
    const total = cacheFigures({ turns: sum('turns'), unreported: sum('unreported'), hits: sum('hits'), cacheReadTokens: sum('cacheReadTokens'), cacheWriteTokens: sum('cacheWriteTokens'), inputTokens: sum('inputTokens') });
    return { items, total, since: f.since ?? null, until: f.until ?? null };
  }

  /** The cache totals of the last day, for `GET /api/agent/status`. */
  async lastDayCache(owner: string | undefined) {
    return { ...(await this.cache({ owner, since: new Date(this.now() - 86_400_000).toISOString() })).total, period: 'last 24 hours' };
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

/** Misses are the turns that reported cache figures but read nothing; the hit rate is over reported turns. */
function cacheFigures<T extends { turns: number; unreported: number; hits: number }>(c: T) {
  const reported = c.turns - c.unreported;
  return { ...c, misses: reported - c.hits, hitRate: reported ? Math.round((c.hits / reported) * 1e4) / 1e4 : null };
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
    inputTokens: t.input_tokens, outputTokens: t.output_tokens, cacheReadTokens: t.cache_read_tokens, cacheWriteTokens: t.cache_write_tokens, cost: t.cost, currency: 'USD',
  };
}
