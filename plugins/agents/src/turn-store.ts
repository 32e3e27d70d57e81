import { rollUp, type Delegation } from './subagents';
import type { FinishReason } from './contract';
import { assertOwner, decodeCursor, errors, iso, pageOf, type Page, type SqlRunner, type User } from 'plinth/sdk';

export interface ToolCallRecord {
  id: string;
  name: string;
  input: unknown;
  ok: boolean;
  output: unknown;
  durationMs: number;
}

export interface TurnRecord {
  id: string;
  session_id: string | null;
  owner: string;
  agent: string | null;
  model: string;
  model_selection: Record<string, unknown>;
  context: unknown[];
  tool_calls: ToolCallRecord[];
  input_tokens: number;
  output_tokens: number;
  /** Prompt-cache tokens read and written, as the provider reported them; null when it reported none. */
  cache_read_tokens: number | null;
  cache_write_tokens: number | null;
  cost: number;
  latency_ms: number;
  ttft_ms: number | null;
  status: 'running' | 'ok' | 'partial' | 'error' | 'interrupted';
  /** The last model call's finish reason (null: none finished, or recorded before it was kept). */
  finish_reason: FinishReason | null;
  error: string | null;
  via: string | null;
  created_at: string;
  completed_at: string | null;
  /** The sub-agent calls of this turn with what each cost (see subagents.ts). */
  delegations: Delegation[];
}

/** A turn as the write-behind path stores it: already finished. */
export type FinishedTurn = Omit<TurnRecord, 'completed_at' | 'delegations'> & { completed_at: string };

/** The context is kept for inspection, bounded so one huge conversation does not bloat the table. */
const MAX_CONTEXT_CHARS = 200_000;

export function fromRow(r: any): TurnRecord {
  return {
    id: r.id, session_id: r.session_id ?? null, owner: r.owner, agent: r.agent ?? null, model: r.model,
    model_selection: JSON.parse(r.model_selection), context: JSON.parse(r.context), tool_calls: JSON.parse(r.tool_calls),
    input_tokens: Number(r.input_tokens), output_tokens: Number(r.output_tokens), cache_read_tokens: nullableNumber(r.cache_read_tokens),
    cache_write_tokens: nullableNumber(r.cache_write_tokens), cost: Number(r.cost), latency_ms: Number(r.latency_ms),
    ttft_ms: r.ttft_ms === null || r.ttft_ms === undefined ? null : Number(r.ttft_ms), status: r.status, finish_reason: r.finish_reason ?? null, error: r.error ?? null,
    via: r.via ?? null, created_at: r.created_at, completed_at: r.completed_at ?? null, delegations: r.delegations ? JSON.parse(r.delegations) : [],
  };
}

const nullableNumber = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function boundedContext(messages: unknown[]): string {
  const context = JSON.stringify(messages);
  return context.length > MAX_CONTEXT_CHARS ? JSON.stringify([{ role: 'system', content: `[context of ${context.length} characters not kept]` }]) : context;
}

export function summarizeTurn(t: TurnRecord) {
  const { context, ...rest } = t;
  return { ...rest, context_messages: context.length, delegated: rollUp(t.delegations) };
}

/** Turns (one user message and everything the agent did about it), their feedback, and the stats over them. */
export class TurnStore {
  private readonly t: string;
  private readonly f: string;
  constructor(private readonly db: SqlRunner, private readonly now: () => number) {
    this.t = db.table('turns');
    this.f = db.table('feedback');
  }

  async start(turn: Pick<TurnRecord, 'id' | 'session_id' | 'owner' | 'agent' | 'model' | 'model_selection' | 'context' | 'via'>): Promise<void> {
    const context = boundedContext(turn.context);
    await this.db.query(
      `INSERT INTO ${this.t} (id, session_id, owner, agent, model, model_selection, context, tool_calls, input_tokens, output_tokens, cost, latency_ms, ttft_ms, status, error, via, created_at, completed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, '[]', 0, 0, 0, 0, NULL, 'running', NULL, ?, ?, NULL)`,
      [turn.id, turn.session_id, turn.owner, turn.agent, turn.model, JSON.stringify(turn.model_selection), context, turn.via, new Date(this.now()).toISOString()]);
  }

  async finish(id: string, r: Pick<TurnRecord, 'model' | 'model_selection' | 'tool_calls' | 'input_tokens' | 'output_tokens' | 'cache_read_tokens' | 'cache_write_tokens' | 'cost' | 'latency_ms' | 'ttft_ms' | 'status' | 'finish_reason' | 'error'> & { delegations?: Delegation[] }): Promise<void> {
    await this.db.query(
      `UPDATE ${this.t} SET model = ?, model_selection = ?, tool_calls = ?, input_tokens = ?, output_tokens = ?, cache_read_tokens = ?, cache_write_tokens = ?, cost = ?, latency_ms = ?, ttft_ms = ?, status = ?, finish_reason = ?, error = ?, completed_at = ?, delegations = ? WHERE id = ?`,
      [r.model, JSON.stringify(r.model_selection), JSON.stringify(r.tool_calls), r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens, r.cost, r.latency_ms, r.ttft_ms, r.status, r.finish_reason, r.error, new Date(this.now()).toISOString(), r.delegations?.length ? JSON.stringify(r.delegations) : null, id]);
  }

  /** Finished turns written in one statement: the write-behind path of proxied calls (see recordedRouter). */
  async insertFinished(turns: FinishedTurn[]): Promise<void> {
    if (!turns.length) return;
    const params: unknown[] = [];
    for (const t of turns) {
      params.push(t.id, t.session_id, t.owner, t.agent, t.model, JSON.stringify(t.model_selection), boundedContext(t.context), JSON.stringify(t.tool_calls),
        t.input_tokens, t.output_tokens, t.cache_read_tokens, t.cache_write_tokens, t.cost, t.latency_ms, t.ttft_ms, t.status, t.finish_reason, t.error, t.via, t.created_at, t.completed_at);
    }
    await this.db.query(
      `INSERT INTO ${this.t} (id, session_id, owner, agent, model, model_selection, context, tool_calls, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost, latency_ms, ttft_ms, status, finish_reason, error, via, created_at, completed_at)
       VALUES ${turns.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`, params);
  }

  /** Turns left `running` by a kernel that stopped mid-turn. */
  async markInterrupted(olderThanMs: number): Promise<number> {
    const before = new Date(this.now() - olderThanMs).toISOString();
    const rows = await this.db.query(`UPDATE ${this.t} SET status = 'interrupted', error = 'the kernel stopped during this turn' WHERE status = 'running' AND created_at <= ? RETURNING id`, [before]);
    return rows.length;
  }

  async get(id: string, user: User | undefined): Promise<TurnRecord> {
    const [row] = await this.db.query(`SELECT * FROM ${this.t} WHERE id = ?`, [id]);
    if (!row) throw errors.notFound(`turn ${id}`);
    assertOwner(user, row.owner, `turn ${id}`);
    return fromRow(row);
  }

  async forSession(sessionId: string, limit: number, cursor?: string): Promise<Page<ReturnType<typeof summarizeTurn>>> {
    // Oldest first, so not keysetPage; created_at is ISO text here, the cursor carries it as epoch ms.
    const after = decodeCursor(cursor);
    const rows = after
      ? await this.db.query(`SELECT * FROM ${this.t} WHERE session_id = ? AND (created_at > ? OR (created_at = ? AND id > ?)) ORDER BY created_at, id LIMIT ?`, [sessionId, iso(after.ms), iso(after.ms), after.id, limit + 1])
      : await this.db.query(`SELECT * FROM ${this.t} WHERE session_id = ? ORDER BY created_at, id LIMIT ?`, [sessionId, limit + 1]);
    return pageOf(rows.map(fromRow), limit, t => ({ ms: Date.parse(t.created_at), id: t.id }), summarizeTurn);
  }

  // ------------------------------------------------------------ feedback

  async getFeedback(turnId: string, user: User | undefined) {
    await this.get(turnId, user);
    const [row] = await this.db.query(`SELECT * FROM ${this.f} WHERE turn_id = ?`, [turnId]);
    if (!row) throw errors.notFound(`feedback on turn ${turnId}`);
    return feedbackFromRow(row);
  }

  /** `create` refuses a second grade (409, use PUT); `replace` makes or replaces it. */
  async putFeedback(turnId: string, user: User | undefined, input: { grade: number; comment?: string }, mode: 'create' | 'replace') {
    const turn = await this.get(turnId, user);
    const at = new Date(this.now()).toISOString();
    const [existing] = await this.db.query(`SELECT * FROM ${this.f} WHERE turn_id = ?`, [turnId]);
    if (existing && mode === 'create') throw errors.conflict(`turn ${turnId} already has feedback; PUT replaces it`);
    if (existing) {
      await this.db.query(`UPDATE ${this.f} SET grade = ?, comment = ?, updated_at = ? WHERE turn_id = ?`, [input.grade, input.comment ?? null, at, turnId]);
    } else {
      await this.db.query(`INSERT INTO ${this.f} (turn_id, session_id, owner, grade, comment, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [turnId, turn.session_id, turn.owner, input.grade, input.comment ?? null, at, at]);
    }
    const [row] = await this.db.query(`SELECT * FROM ${this.f} WHERE turn_id = ?`, [turnId]);
    return feedbackFromRow(row);
  }

  async sessionFeedback(sessionId: string) {
    const rows = await this.db.query(`SELECT * FROM ${this.f} WHERE session_id = ? ORDER BY created_at`, [sessionId]);
    const items = rows.map(feedbackFromRow);
    const avg = items.length ? items.reduce((n, i) => n + i.grade, 0) / items.length : null;
    return { items, nextCursor: null, averageGrade: avg };
  }

  // ------------------------------------------------------------ stats

  private scope(owner: string | undefined, since: string | undefined, until: string | undefined): { where: string; params: unknown[] } {
    const clauses = [`t.status <> 'running'`];
    const params: unknown[] = [];
    if (owner) { clauses.push('t.owner = ?'); params.push(owner); }
    if (since) { clauses.push('t.created_at >= ?'); params.push(since); }
    if (until) { clauses.push('t.created_at < ?'); params.push(until); }
    return { where: clauses.join(' AND '), params };
  }

  async costs(owner: string | undefined, q: { since?: string; until?: string; group: 'model' | 'agent' | 'day' }) {
    const { where, params } = this.scope(owner, q.since, q.until);
    const key = q.group === 'model' ? 't.model' : q.group === 'agent' ? `COALESCE(t.agent, '(none)')` : 'SUBSTR(t.created_at, 1, 10)';
    const rows = await this.db.query(
      `SELECT ${key} AS k, COUNT(*) AS turns, SUM(t.input_tokens) AS input_tokens, SUM(t.output_tokens) AS output_tokens, SUM(t.cost) AS cost
       FROM ${this.t} t WHERE ${where} GROUP BY ${key} ORDER BY ${key}`, params);
    const items = rows.map(r => ({ [q.group]: r.k, turns: Number(r.turns), inputTokens: Number(r.input_tokens), outputTokens: Number(r.output_tokens), cost: round(Number(r.cost)) }));
    const total = items.reduce((a, i) => ({ turns: a.turns + i.turns, inputTokens: a.inputTokens + i.inputTokens, outputTokens: a.outputTokens + i.outputTokens, cost: round(a.cost + i.cost) }),
      { turns: 0, inputTokens: 0, outputTokens: 0, cost: 0 });
    return { items, total, currency: 'USD' };
  }

  async timeseries(owner: string | undefined, q: { since?: string; until?: string; bucket: 'hour' | 'day' }) {
    const { where, params } = this.scope(owner, q.since, q.until);
    const len = q.bucket === 'hour' ? 13 : 10;
    const rows = await this.db.query(
      `SELECT SUBSTR(t.created_at, 1, ${len}) AS b, COUNT(*) AS turns, SUM(t.input_tokens + t.output_tokens) AS tokens, SUM(t.cost) AS cost,
        AVG(t.latency_ms) AS latency, SUM(CASE WHEN t.status = 'error' THEN 1 ELSE 0 END) AS errors
       FROM ${this.t} t WHERE ${where} GROUP BY SUBSTR(t.created_at, 1, ${len}) ORDER BY b`, params);
    return {
      bucket: q.bucket,
      items: rows.map(r => ({
        start: q.bucket === 'hour' ? `${r.b}:00:00.000Z` : `${r.b}T00:00:00.000Z`, turns: Number(r.turns), tokens: Number(r.tokens),
        cost: round(Number(r.cost)), avgLatencyMs: Math.round(Number(r.latency)), errors: Number(r.errors),
      })),
    };
  }

  async efficiency(owner: string | undefined, q: { since?: string; until?: string; model?: string }) {
    const scoped = this.scope(owner, q.since, q.until);
    const where = q.model ? `${scoped.where} AND t.model = ?` : scoped.where;
    const params = q.model ? [...scoped.params, q.model] : scoped.params;
    const rows = await this.db.query(
      `SELECT t.model AS model, COUNT(*) AS turns, AVG(t.latency_ms) AS latency, AVG(t.ttft_ms) AS ttft,
        SUM(t.input_tokens) AS input_tokens, SUM(t.output_tokens) AS output_tokens, SUM(t.cost) AS cost, SUM(t.latency_ms) AS total_ms,
        SUM(CASE WHEN t.status = 'error' THEN 1 ELSE 0 END) AS errors, SUM(CASE WHEN t.status = 'partial' THEN 1 ELSE 0 END) AS partials,
        AVG(f.grade) AS grade, COUNT(f.grade) AS graded
       FROM ${this.t} t LEFT JOIN ${this.f} f ON f.turn_id = t.id WHERE ${where} GROUP BY t.model ORDER BY t.model`, params);
    return {
      items: rows.map(r => {
        const turns = Number(r.turns);
        const out = Number(r.output_tokens);
        const ms = Number(r.total_ms);
        return {
          model: r.model, turns, avgLatencyMs: Math.round(Number(r.latency)), avgTtftMs: r.ttft === null ? null : Math.round(Number(r.ttft)),
          outputTokensPerSecond: ms > 0 ? round(out / (ms / 1000)) : null, costPerTurn: round(Number(r.cost) / turns),
          errorRate: round(Number(r.errors) / turns), partialRate: round(Number(r.partials) / turns),
          averageGrade: r.grade === null ? null : round(Number(r.grade)), graded: Number(r.graded),
        };
      }),
    };
  }
}

function feedbackFromRow(r: any) {
  return { turnId: r.turn_id, sessionId: r.session_id ?? null, owner: r.owner, grade: Number(r.grade), comment: r.comment ?? null, createdAt: r.created_at, updatedAt: r.updated_at };
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
