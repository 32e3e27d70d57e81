import type { ToolRegistry, User } from 'plinth/sdk';
import type { AgentProfile, ToolCallRequest } from './contract';
import type { ToolCallRecord } from './turn-store';

/** Model-facing tool names: OpenAI and Anthropic allow `[a-zA-Z0-9_-]` only, so `memory.search` goes out as `memory__search`. */
const wireName = (name: string) => name.replace(/\./g, '__');

export function toolAllowed(patterns: string[], name: string): boolean {
  return patterns.some(p => p === '*' || p === name || (p.endsWith('.*') && name.startsWith(p.slice(0, -1))));
}
/** The tools an agent may call, under the names the model sees, and the way back to the real names. */
export function toolsFor(tools: ToolRegistry, agent: AgentProfile) {
  const infos = tools.list().filter(t => t.risk !== 'blocked' && toolAllowed(agent.allowed_tools, t.name));
  const byWire = new Map(infos.map(t => [wireName(t.name), t.name]));
  const names = new Set(infos.map(t => t.name));
  return {
    wire: infos.map(t => ({ name: wireName(t.name), description: t.description, parameters: t.inputSchema })),
    realName: (name: string) => byWire.get(name) ?? name,
    allowed: (name: string) => names.has(name) || (!tools.get(name) && toolAllowed(agent.allowed_tools, name)),
  };
}

/** One tool call of the model: parsed, checked against the agent's tools, run with a timeout; a failure is a result, never a throw. */
export async function callTool(tools: ToolRegistry, timeoutMs: number, now: () => number, call: ToolCallRequest, allowed: (name: string) => boolean, ctx: { user: User; sessionId: string; turnId: string; signal: AbortSignal }): Promise<ToolCallRecord> {
  const started = now();
  let input: unknown = call.arguments;
  const fail = (message: string): ToolCallRecord => ({ id: call.id, name: call.name, input, ok: false, output: { error: message }, durationMs: now() - started });
  try {
    input = call.arguments.trim() ? JSON.parse(call.arguments) : {};
  } catch {
    return fail(`arguments of ${call.name} are not valid JSON: ${call.arguments.slice(0, 200)}`);
  }
  if (!allowed(call.name)) return fail(`tool ${call.name} is not available to this agent`);
  let timer: NodeJS.Timeout | undefined;
  try {
    const output = await Promise.race([
      tools.execute(call.name, input, { ...ctx, via: 'agent' }),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`tool ${call.name} did not finish within ${timeoutMs} ms`)), timeoutMs); }),
    ]);
    return { id: call.id, name: call.name, input, ok: true, output: output ?? null, durationMs: now() - started };
  } catch (err) {
    return fail((err as Error)?.message ?? String(err));
  } finally {
    clearTimeout(timer);
  }
}
