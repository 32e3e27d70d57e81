import { errors, type SqlRunner, type User } from 'plinth/sdk';
import type { AgentProfile } from './contract';
import type { AgentStore } from './agent-store';

/** A sub-agent: an agent profile other agents may call as the tool `subagent.<name>`, with a switch and a cost cap per call. */
export interface Subagent {
  name: string;
  agent_id: string;
  description: string;
  enabled: boolean;
  max_cost_usd: number | null;
  created_at: string;
  updated_at: string;
}

export interface SubagentInput { description?: string; enabled?: boolean; max_cost_usd?: number | null }

const fromRow = (r: any): Subagent => ({
  name: r.name, agent_id: r.agent_id, description: r.description, enabled: Number(r.enabled) === 1,
  max_cost_usd: r.max_cost_usd === null || r.max_cost_usd === undefined ? null : Number(r.max_cost_usd), created_at: r.created_at, updated_at: r.updated_at,
});

/**
 * Sub-agent definitions, in a table of their own beside the profiles: the profile keeps the
 * instructions, model, tools and max_turns; this row says that (and how) other agents may call it.
 * Its name is the profile's name. Visible to whoever sees the profile; changed by whoever may change the profile.
 */
export class SubagentStore {
  private readonly t: string;
  constructor(private readonly db: SqlRunner, private readonly agents: AgentStore, private readonly now: () => number) {
    this.t = db.table('subagents');
  }

  async listEnabled(): Promise<Subagent[]> {
    return (await this.db.query(`SELECT * FROM ${this.t} WHERE enabled = 1 ORDER BY name`)).map(fromRow);
  }

  async list(user: User): Promise<Array<Subagent & { agent: AgentProfile }>> {
    const visible = new Map((await this.agents.list(user)).map(a => [a.id, a]));
    const rows = (await this.db.query(`SELECT * FROM ${this.t} ORDER BY name`)).map(fromRow);
    return rows.filter(s => visible.has(s.agent_id)).map(s => ({ ...s, agent: visible.get(s.agent_id)! }));
  }

  async get(name: string, user: User): Promise<Subagent & { agent: AgentProfile }> {
    const agent = await this.agents.getVisible(name, user).catch(() => undefined);
    const [row] = agent ? await this.db.query(`SELECT * FROM ${this.t} WHERE agent_id = ?`, [agent.id]) : [];
    if (!agent || !row) throw errors.notFound(`sub-agent "${name}"`);
    return { ...fromRow(row), agent };
  }

  private async writable(name: string, user: User): Promise<AgentProfile> {
    const agent = await this.agents.getVisible(name, user).catch(() => { throw errors.notFound(`agent "${name}"`); });
    if (user.role !== 'admin' && agent.owner !== user.id) throw errors.forbidden(`agent "${agent.name}" is shared; only admins make it a sub-agent or change it`);
    if (agent.kind !== 'llm') throw errors.unprocessable(`agent "${agent.name}" is a ${agent.kind} agent; only llm agents can be sub-agents`);
    return agent;
  }

  async create(name: string, input: SubagentInput, user: User): Promise<Subagent> {
    const agent = await this.writable(name, user);
    const [exists] = await this.db.query(`SELECT name FROM ${this.t} WHERE agent_id = ?`, [agent.id]);
    if (exists) throw errors.conflict(`agent "${agent.name}" is already a sub-agent`);
    const at = new Date(this.now()).toISOString();
    await this.db.query(`INSERT INTO ${this.t} (name, agent_id, description, enabled, max_cost_usd, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [agent.name, agent.id, input.description ?? agent.instructions.slice(0, 200), input.enabled === false ? 0 : 1, input.max_cost_usd ?? null, at, at]);
    return this.get(agent.id, user);
  }

  async update(name: string, input: SubagentInput, user: User): Promise<Subagent> {
    await this.writable(name, user);
    const current = await this.get(name, user);
    const next = { ...current, ...input };
    await this.db.query(`UPDATE ${this.t} SET description = ?, enabled = ?, max_cost_usd = ?, updated_at = ? WHERE agent_id = ?`,
      [next.description, next.enabled ? 1 : 0, next.max_cost_usd ?? null, new Date(this.now()).toISOString(), current.agent_id]);
    return this.get(name, user);
  }

  async remove(name: string, user: User): Promise<void> {
    await this.writable(name, user);
    const current = await this.get(name, user);
    await this.db.query(`DELETE FROM ${this.t} WHERE agent_id = ?`, [current.agent_id]);
  }
}
