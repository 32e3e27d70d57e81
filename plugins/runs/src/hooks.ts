import { errors } from 'plinth/sdk';

export const HOOK_TYPES = ['agent.tool_call', 'agent.tool_result', 'agent.needs_attention', 'agent.subagent_start',
  'agent.subagent_stop', 'agent.session', 'agent.turn_complete', 'agent.task', 'user.message'] as const;

export interface HookEvent { type: string; data: Record<string, unknown>; sessionId?: string; preToolUse: boolean }

/**
 * Turns what a CLI's hook posts into a run event: Claude Code's hook input (`hook_event_name`,
 * docs.claude.com/en/docs/claude-code/hooks), Codex's `notify` payload (`type:
 * agent-turn-complete`), or Plinth's own `{ type, ... }` that scripts may send.
 */
export function mapHook(body: any): HookEvent {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('a hook posts a JSON object');
  const sessionId = typeof body.session_id === 'string' ? body.session_id
    : typeof body['thread-id'] === 'string' ? body['thread-id'] : undefined;
  const name = body.hook_event_name;
  if (typeof name === 'string') {
    const tool = { tool: body.tool_name, input: body.tool_input, tool_use_id: body.tool_use_id };
    switch (name) {
      case 'PreToolUse': return { type: 'agent.tool_call', data: tool, sessionId, preToolUse: true };
      case 'PostToolUse': return { type: 'agent.tool_result', data: { ...tool, response: body.tool_response }, sessionId, preToolUse: false };
      case 'Notification': return { type: 'agent.needs_attention', data: { message: body.message }, sessionId, preToolUse: false };
      case 'SubagentStart': return { type: 'agent.subagent_start', data: { agent: body.agent_type ?? body.subagent_type ?? null }, sessionId, preToolUse: false };
      case 'SubagentStop': return { type: 'agent.subagent_stop', data: { agent: body.agent_type ?? null }, sessionId, preToolUse: false };
      case 'UserPromptSubmit': return { type: 'user.message', data: { message: body.prompt, via: 'cli' }, sessionId, preToolUse: false };
      default: return { type: 'agent.session', data: { event: name }, sessionId, preToolUse: false };
    }
  }
  if (body.type === 'agent-turn-complete') {
    return { type: 'agent.turn_complete', data: { last_message: body['last-assistant-message'] ?? null, input: body['input-messages'] ?? [] }, sessionId, preToolUse: false };
  }
  if (typeof body.type === 'string' && (HOOK_TYPES as readonly string[]).includes(body.type)) {
    const { type, ...data } = body;
    return { type, data, sessionId, preToolUse: type === 'agent.tool_call' && body.pre === true };
  }
  throw errors.badRequest(`unknown hook: send a Claude Code hook input, a Codex notify payload, or { type } with one of ${HOOK_TYPES.join(', ')}`);
}

/** The task list a run's agent keeps, from its TodoWrite calls or explicit `agent.task` events. */
export function tasksFrom(events: Array<{ type: string; data: any; seq: number }>): unknown[] {
  let todos: unknown[] = [];
  for (const e of events) {
    if (e.type === 'agent.tool_call' && e.data?.tool === 'TodoWrite' && Array.isArray(e.data?.input?.todos)) todos = e.data.input.todos;
    if (e.type === 'agent.task' && Array.isArray(e.data?.tasks)) todos = e.data.tasks;
  }
  return todos;
}
