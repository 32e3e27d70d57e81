import { claimLeased, errors, newId, type SqlRunner, type User } from 'plinth/sdk';
import type { InstanceState } from './contract';

export interface InstanceRow {
  agent_id: string;
  agent_name: string;
  owner: string;
  owner_email: string;
  owner_role: string;
  desired: 'running' | 'stopped';
  state: InstanceState;
  reason: string | null;
  session_id: string | null;
  updated_at: string;
}

export interface QueueItem {
  id: string;
  agent_id: string;
  message: string;
  source: string;
  state: 'ready' | 'running' | 'done' | 'failed';
  turn_id: string | null;
  result: string | null;
  error: string | null;
  attempts: number;
  created_at: string;
  updated_at: string;
}

const item = (r: any): QueueItem => {
  const { lease_owner: _o, lease_until: _u, dedupe_key: _k, ...rest } = r;
  return { ...rest, attempts: Number(r.attempts) };
};

/** Instances (one row per agent that was ever started) and their durable work queue. */
export class InstanceStore {
  private readonly i: string;
  private readonly q: string;
  constructor(private readonly db: SqlRunner, private readonly now: () => number) {
    this.i = db.table('instances');
    this.q = db.table('instance_queue');
  }

  private at(): string { return new Date(this.now()).toISOString(); }

  async all(): Promise<InstanceRow[]> {
    return this.db.query(`SELECT * FROM ${this.i} ORDER BY agent_name`);
  }

  async get(agentId: string): Promise<InstanceRow | undefined> {
    const [row] = await this.db.query(`SELECT * FROM ${this.i} WHERE agent_id = ?`, [agentId]);
    return row;
  }

  /** Marks the instance wanted running, as `user`, creating its row the first time. */
  async want(agent: { id: string; name: string }, user: User): Promise<InstanceRow> {
    const existing = await this.get(agent.id);
    if (existing) {
      await this.db.query(`UPDATE ${this.i} SET desired = 'running', owner = ?, owner_email = ?, owner_role = ?, agent_name = ?, updated_at = ? WHERE agent_id = ?`,
        [user.id, user.email, user.role, agent.name, this.at(), agent.id]);
    } else {
      await this.db.query(`INSERT INTO ${this.i} (agent_id, agent_name, owner, owner_email, owner_role, desired, state, reason, session_id, updated_at) VALUES (?, ?, ?, ?, ?, 'running', 'stopped', NULL, NULL, ?)`,
        [agent.id, agent.name, user.id, user.email, user.role, this.at()]);
    }
    return (await this.get(agent.id))!;
  }

  async setDesired(agentId: string, desired: 'running' | 'stopped'): Promise<void> {
    await this.db.query(`UPDATE ${this.i} SET desired = ?, updated_at = ? WHERE agent_id = ?`, [desired, this.at(), agentId]);
  }

  async setState(agentId: string, state: InstanceState, reason: string | null = null): Promise<void> {
    await this.db.query(`UPDATE ${this.i} SET state = ?, reason = ?, updated_at = ? WHERE agent_id = ?`, [state, reason, this.at(), agentId]);
  }

  async setSession(agentId: string, sessionId: string): Promise<void> {
    await this.db.query(`UPDATE ${this.i} SET session_id = ? WHERE agent_id = ?`, [sessionId, agentId]);
  }

  async item(id: string): Promise<QueueItem | undefined> {
    const [row] = await this.db.query(`SELECT * FROM ${this.q} WHERE id = ?`, [id]);
    return row ? item(row) : undefined;
  }

  async enqueue(agentId: string, message: string, source: string, key?: string): Promise<QueueItem> {
    if (key) {
      const [seen] = await this.db.query(`SELECT * FROM ${this.q} WHERE agent_id = ? AND dedupe_key = ?`, [agentId, key]);
      if (seen) return item(seen);
    }
    const at = this.at();
    const row = { id: newId('iq'), agent_id: agentId, dedupe_key: key ?? null, message, source, state: 'ready', turn_id: null, result: null, error: null, attempts: 0, lease_owner: null, lease_until: 0, created_at: at, updated_at: at };
    const cols = Object.keys(row);
    await this.db.query(`INSERT INTO ${this.q} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, Object.values(row));
    return item(row);
  }

  async queue(agentId: string, limit = 100): Promise<QueueItem[]> {
    return (await this.db.query(`SELECT * FROM ${this.q} WHERE agent_id = ? ORDER BY created_at DESC, id DESC LIMIT ${Math.floor(limit)}`, [agentId])).map(item);
  }

  async counts(): Promise<Map<string, number>> {
    const rows = await this.db.query(`SELECT agent_id, COUNT(*) AS n FROM ${this.q} WHERE state IN ('ready', 'running') GROUP BY agent_id`);
    return new Map(rows.map((r: any) => [r.agent_id, Number(r.n)]));
  }

  /** The next item for the agent: ready, or running under a lease that ran out (its kernel died). */
  async claim(agentId: string, worker: string, leaseMs: number): Promise<QueueItem | undefined> {
    const now = this.now();
    const [row] = await claimLeased(this.db, {
      table: this.q, set: `state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?`, setParams: [worker, now + leaseMs, this.at()],
      where: `agent_id = ? AND (state = 'ready' OR (state = 'running' AND lease_until < ?))`, whereParams: [agentId, now], orderBy: 'created_at, id',
    });
    return row ? item(row) : undefined;
  }

  /** Gives a claimed item back untouched (its attempt not counted), for whichever worker comes next. */
  async release(id: string, worker: string): Promise<void> {
    await this.db.query(`UPDATE ${this.q} SET state = 'ready', lease_owner = NULL, lease_until = 0, attempts = attempts - 1 WHERE id = ? AND lease_owner = ? AND state = 'running'`, [id, worker]);
  }

  async renew(id: string, worker: string, leaseMs: number): Promise<void> {
    await this.db.query(`UPDATE ${this.q} SET lease_until = ? WHERE id = ? AND lease_owner = ? AND state = 'running'`, [this.now() + leaseMs, id, worker]);
  }

  async finish(id: string, worker: string, r: { state: 'done' | 'failed'; turn_id: string | null; result: string | null; error: string | null }): Promise<void> {
    await this.db.query(`UPDATE ${this.q} SET state = ?, turn_id = ?, result = ?, error = ?, lease_owner = NULL, updated_at = ? WHERE id = ? AND lease_owner = ?`,
      [r.state, r.turn_id, r.result, r.error, this.at(), id, worker]);
  }

  /** A SQLite file has one kernel: items `running` at start were cut off by the previous process and are ready again. */
  async releaseAll(): Promise<number> {
    const rows = await this.db.query(`UPDATE ${this.q} SET state = 'ready', lease_owner = NULL, lease_until = 0 WHERE state = 'running' RETURNING id`);
    return rows.length;
  }

  async assertExists(agentId: string, name: string): Promise<InstanceRow> {
    const row = await this.get(agentId);
    if (!row) throw errors.notFound(`instance of agent "${name}" (never started)`);
    return row;
  }
}
