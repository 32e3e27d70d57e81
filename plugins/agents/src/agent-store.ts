import { errors, newId, type SqlRunner, type User } from 'plinth/sdk';
import type { AgentProfile } from './contract';

export interface AgentInput {
  name?: string;
  kind?: 'llm' | 'cli';
  model?: string;
  instructions?: string;
  allowed_tools?: string[];
  max_turns?: number;
  cli_name?: string | null;
  provider_config?: Record<string, unknown> | null;
  role?: string | null;
  fallback_models?: string[];
}

/** The name of the agent every install starts with; its model `default` follows the runtime's default model. */
export const DEFAULT_AGENT = 'assistant';
export const DEFAULT_MODEL_ALIAS = 'default';

function fromRow(r: any): AgentProfile & { created_at: string; updated_at: string } {
  return {
    id: r.id, name: r.name, kind: r.kind, model: r.model, instructions: r.instructions,
    allowed_tools: JSON.parse(r.allowed_tools), max_turns: Number(r.max_turns), cli_name: r.cli_name ?? null,
    provider_config: r.provider_config ? JSON.parse(r.provider_config) : null, role: r.role ?? null,
    fallback_models: JSON.parse(r.fallback_models), owner: r.owner ?? null, created_at: r.created_at, updated_at: r.updated_at,
  };
}

/**
 * Agent profiles. Shared agents (owner null: the seeded one, or made by an admin) are visible to
 * every user and changed by admins only; a user's own agents are visible to that user only.
 * Names are unique across the install, so `agent/<name>` in the OpenAI API is unambiguous.
 */
export class AgentStore {
  private readonly t: string;
  constructor(private readonly db: SqlRunner, private readonly now: () => number) {
    this.t = db.table('agents');
  }

  async seedDefault(): Promise<void> {
    const [row] = await this.db.query(`SELECT id FROM ${this.t} WHERE name = ?`, [DEFAULT_AGENT]);
    if (row) return;
    await this.insert({
      name: DEFAULT_AGENT, kind: 'llm', model: DEFAULT_MODEL_ALIAS,
      instructions: 'You are a helpful assistant. Use the tools you are given when they help.',
      allowed_tools: ['*'], role: 'assistant',
    }, null).catch(() => undefined); // another kernel on the same database seeded it first
  }

  async list(user: User): Promise<AgentProfile[]> {
    const rows = user.role === 'admin'
      ? await this.db.query(`SELECT * FROM ${this.t} ORDER BY name`)
      : await this.db.query(`SELECT * FROM ${this.t} WHERE owner IS NULL OR owner = ? ORDER BY name`, [user.id]);
    return rows.map(fromRow);
  }

  async listAll(): Promise<AgentProfile[]> {
    return (await this.db.query(`SELECT * FROM ${this.t} ORDER BY name`)).map(fromRow);
  }

  /** By id or name; undefined when absent. No ownership check (see `getVisible`). */
  async find(nameOrId: string): Promise<AgentProfile | undefined> {
    const [row] = await this.db.query(`SELECT * FROM ${this.t} WHERE id = ? OR name = ?`, [nameOrId, nameOrId]);
    return row ? fromRow(row) : undefined;
  }

  async getVisible(nameOrId: string, user: User): Promise<AgentProfile> {
    const agent = await this.find(nameOrId);
    if (!agent || (agent.owner !== null && agent.owner !== user.id && user.role !== 'admin')) {
      throw errors.notFound(`agent "${nameOrId}"`);
    }
    return agent;
  }

  private async getWritable(nameOrId: string, user: User): Promise<AgentProfile> {
    const agent = await this.getVisible(nameOrId, user);
    if (agent.owner === null && user.role !== 'admin') throw errors.forbidden(`agent "${agent.name}" is shared; only admins change it`);
    return agent;
  }

  async create(input: AgentInput, user: User): Promise<AgentProfile> {
    if (await this.find(input.name!)) throw errors.conflict(`an agent named "${input.name}" already exists`);
    // Agents made by admins are shared: that is how an install offers agents to its users.
    return this.insert(input, user.role === 'admin' ? null : user.id);
  }

  private async insert(input: AgentInput, owner: string | null): Promise<AgentProfile> {
    const at = new Date(this.now()).toISOString();
    const kind = input.kind ?? 'llm';
    if (kind === 'cli' && !input.cli_name) throw errors.validation('a cli agent needs cli_name (e.g. claude-code, codex)');
    const row = {
      id: newId('agt'), name: input.name, kind, model: input.model ?? DEFAULT_MODEL_ALIAS, instructions: input.instructions ?? '',
      allowed_tools: JSON.stringify(input.allowed_tools ?? []), max_turns: input.max_turns ?? 100, cli_name: input.cli_name ?? null,
      provider_config: input.provider_config ? JSON.stringify(input.provider_config) : null, role: input.role ?? null,
      fallback_models: JSON.stringify(input.fallback_models ?? []), owner, created_at: at, updated_at: at,
    };
    const cols = Object.keys(row);
    await this.db.query(`INSERT INTO ${this.t} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, Object.values(row));
    return fromRow(row);
  }

  async update(nameOrId: string, input: AgentInput, user: User): Promise<AgentProfile> {
    const agent = await this.getWritable(nameOrId, user);
    if (input.name && input.name !== agent.name && await this.find(input.name)) {
      throw errors.conflict(`an agent named "${input.name}" already exists`);
    }
    const next = { ...agent, ...input };
    if (next.kind === 'cli' && !next.cli_name) throw errors.validation('a cli agent needs cli_name (e.g. claude-code, codex)');
    await this.db.query(
      `UPDATE ${this.t} SET name = ?, kind = ?, model = ?, instructions = ?, allowed_tools = ?, max_turns = ?, cli_name = ?,
       provider_config = ?, role = ?, fallback_models = ?, updated_at = ? WHERE id = ?`,
      [next.name, next.kind, next.model, next.instructions, JSON.stringify(next.allowed_tools), next.max_turns, next.cli_name ?? null,
        next.provider_config ? JSON.stringify(next.provider_config) : null, next.role ?? null, JSON.stringify(next.fallback_models ?? []),
        new Date(this.now()).toISOString(), agent.id]);
    return (await this.find(agent.id))!;
  }

  async remove(nameOrId: string, user: User): Promise<void> {
    const agent = await this.getWritable(nameOrId, user);
    await this.db.query(`DELETE FROM ${this.t} WHERE id = ?`, [agent.id]);
  }
}
