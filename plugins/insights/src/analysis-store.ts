import { assertOwner, errors, newId, type SqlRunner, type User } from 'plinth/sdk';

export interface Analysis {
  id: string;
  owner: string;
  kind: 'turn' | 'session' | 'recommendations';
  targetId: string;
  model: string;
  text: string;
  findings: unknown;
  usage: { inputTokens: number; outputTokens: number };
  cost: number;
  createdAt: string;
}

const fromRow = (r: any): Analysis => ({
  id: r.id, owner: r.owner, kind: r.kind, targetId: r.target_id, model: r.model, text: r.text, findings: JSON.parse(r.findings),
  usage: { inputTokens: Number(r.input_tokens), outputTokens: Number(r.output_tokens) }, cost: Number(r.cost), createdAt: r.created_at,
});

/** Analyses written by a model, kept with what they cost. */
export class AnalysisStore {
  private readonly t: string;
  constructor(private readonly db: SqlRunner, private readonly now: () => number) {
    this.t = db.table('analyses');
  }

  async add(a: Omit<Analysis, 'id' | 'createdAt'>): Promise<Analysis> {
    const row = { ...a, id: newId('ana'), createdAt: new Date(this.now()).toISOString() };
    await this.db.query(`INSERT INTO ${this.t} (id, owner, kind, target_id, model, text, findings, input_tokens, output_tokens, cost, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [row.id, row.owner, row.kind, row.targetId, row.model, row.text, JSON.stringify(row.findings), row.usage.inputTokens, row.usage.outputTokens, row.cost, row.createdAt]);
    return row;
  }

  /** The newest analyses of a target; the caller has checked the target is the user's. */
  async latest(kind: Analysis['kind'], targetId: string, limit = 10): Promise<Analysis[]> {
    return (await this.db.query(`SELECT * FROM ${this.t} WHERE kind = ? AND target_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, [kind, targetId, limit])).map(fromRow);
  }

  async getOwned(id: string, user: User | undefined): Promise<Analysis> {
    const [row] = await this.db.query(`SELECT * FROM ${this.t} WHERE id = ?`, [id]);
    if (!row) throw errors.notFound(`analysis ${id}`);
    assertOwner(user, row.owner, `analysis ${id}`);
    return fromRow(row);
  }
}
