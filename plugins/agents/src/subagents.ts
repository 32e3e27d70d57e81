import { errors, type EventBus, type ToolRegistry, type User } from 'plinth/sdk';
import type { AgentProfile } from './contract';
import type { AgentStore } from './agent-store';
import type { SessionTurnInput, SessionTurnResult } from './agent-loop';
import type { SessionRecord } from './session-store';
import type { SubagentStore } from './subagent-store';
import { toolAllowed } from './tool-calls';

export const SUBAGENT_TOOL_PREFIX = 'subagent.';

/** What a delegation cost, its own and its sub-agents' below it together. */
export interface Rollup { turns: number; toolCalls: number; inputTokens: number; outputTokens: number; cost: number }
/** One sub-agent call of a turn, as kept on the parent turn record (`delegations`). */
export interface Delegation extends Rollup { subagent: string; sessionId: string; turnId: string; depth: number; status: string; error: string | null }

export const emptyRollup = (): Rollup => ({ turns: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, cost: 0 });
export function rollUp(items: Delegation[]): Rollup {
  const total = emptyRollup();
  for (const d of items) for (const k of Object.keys(total) as Array<keyof Rollup>) total[k] += d[k];
  return total;
}

const TaskSchema = {
  type: 'object', additionalProperties: false, required: ['task'],
  properties: {
    task: { type: 'string', minLength: 1, description: 'What the sub-agent should do: its user message' },
    context: { type: 'string', description: 'Anything else it should know (it does not see your conversation)' },
  },
};

interface ParentTurn { user: User; sessionId: string; turnId: string; message: string; depth: number; signal: AbortSignal }
interface ChildRunner {
  createSession(user: User, input: { agent: string; via?: string; name?: string }): Promise<SessionRecord>;
  runSessionTurn(input: SessionTurnInput): Promise<SessionTurnResult>;
}

/**
 * Sub-agents as tools of the agent loop: one `subagent.<name>` per enabled sub-agent the calling
 * agent's allowed_tools admit, offered while the depth is under `maxDepth`. A call runs one turn of
 * the sub-agent in a child session of its own (the task as its message; the parent's message and the
 * caller's context in its system prompt), capped at the sub-agent's `max_cost_usd`, and its turns,
 * tool calls, tokens and cost come back as a `Delegation` for the parent turn.
 */
export class Subagents {
  constructor(
    private readonly store: SubagentStore,
    private readonly agents: AgentStore,
    private readonly runner: () => ChildRunner,
    private readonly events: EventBus,
    private readonly options: { maxDepth: number; maxCostUsd: number | null },
  ) {}

  /** The sub-agents `agent` may call at `depth`, as tool descriptions. */
  async offered(agent: AgentProfile, depth: number): Promise<Array<{ name: string; description: string; inputSchema: unknown }>> {
    if (depth >= this.options.maxDepth) return [];
    const out = [];
    for (const s of await this.store.listEnabled()) {
      const profile = await this.agents.find(s.agent_id);
      const name = profile && SUBAGENT_TOOL_PREFIX + profile.name;
      if (name && toolAllowed(agent.allowed_tools, name)) out.push({ name, description: `Delegate to the sub-agent ${profile.name}: ${s.description}`, inputSchema: TaskSchema });
    }
    return out;
  }

  /** Runs the sub-agent's turn; `record` receives its delegation even when the turn failed (its cost was spent). */
  async call(name: string, input: unknown, parent: ParentTurn, record: (d: Delegation) => void): Promise<unknown> {
    const subName = name.slice(SUBAGENT_TOOL_PREFIX.length);
    if (parent.depth >= this.options.maxDepth) throw errors.unprocessable(`sub-agent depth limit ${this.options.maxDepth} reached; ${name} is not called`);
    const args = input as { task?: unknown; context?: unknown };
    if (typeof args?.task !== 'string' || !args.task.trim()) throw errors.validation(`${name} needs { "task": "<what to do>" }`);
    const profile = await this.agents.find(subName);
    const def = profile && (await this.store.listEnabled()).find(s => s.agent_id === profile.id);
    if (!profile || !def) throw errors.notFound(`sub-agent "${subName}" (absent or disabled)`);
    const runner = this.runner();
    const child = await runner.createSession(parent.user, { agent: profile.id, via: `subagent:${parent.turnId}`, name: `${subName} for ${parent.turnId}` });
    const caps = [def.max_cost_usd, this.options.maxCostUsd].filter((c): c is number => c !== null);
    const extraSystem = [`You were called as a sub-agent by another agent, whose user said:\n${parent.message}`,
      typeof args.context === 'string' && args.context.trim() ? `Context from the caller:\n${args.context}` : ''].filter(Boolean).join('\n\n');
    this.publish('agent.subagent.started', { parentSessionId: parent.sessionId, parentTurnId: parent.turnId, subagent: subName, sessionId: child.id, depth: parent.depth + 1 }, parent.user.id);
    const result = await runner.runSessionTurn({
      session: child, user: parent.user, message: args.task, signal: parent.signal, via: 'subagent',
      depth: parent.depth + 1, extraSystem, maxCostUsd: caps.length ? Math.min(...caps) : undefined,
    });
    const own = result.rollup ?? emptyRollup();
    const delegation: Delegation = {
      subagent: subName, sessionId: child.id, turnId: result.turnId, depth: parent.depth + 1, status: result.status ?? (result.partial ? 'partial' : 'ok'),
      error: result.error?.message ?? result.limit ?? null,
      turns: 1 + own.turns, toolCalls: (result.toolCalls ?? 0) + own.toolCalls, inputTokens: result.usage.inputTokens + own.inputTokens,
      outputTokens: result.usage.outputTokens + own.outputTokens, cost: (result.cost ?? 0) + own.cost,
    };
    record(delegation);
    this.publish('agent.subagent.finished', { parentSessionId: parent.sessionId, parentTurnId: parent.turnId, ...delegation }, parent.user.id);
    if (result.error) throw result.error;
    return { subagent: subName, sessionId: child.id, turnId: result.turnId, status: delegation.status, text: result.text };
  }

  private publish(topic: string, payload: unknown, owner: string): void {
    void this.events.publish(topic, payload, { owner, audience: 'owner' }).catch(() => undefined);
  }
}

/** The registry's `execute` with `subagent.*` names going to the sub-agents instead. */
export function withSubagents(tools: ToolRegistry, subagents: Subagents | undefined, parent: ParentTurn, record: (d: Delegation) => void): Pick<ToolRegistry, 'execute'> {
  return {
    execute: (name, input, ctx) => subagents && name.startsWith(SUBAGENT_TOOL_PREFIX) ? subagents.call(name, input, parent, record) : tools.execute(name, input, ctx),
  };
}
