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

/**
 * The task list a run's agent keeps: from its TodoWrite calls, its TaskCreate / TaskUpdate calls
 * (Claude Code's task tools; a created task is numbered in order, as the CLI numbers them), or
 * explicit `agent.task` events.
 */
export function tasksFrom(events: Array<{ type: string; data: any; seq: number }>): unknown[] {
  let todos: any[] = [];
  // The same call may arrive twice: from a hook and from the CLI's structured output.
  const seen = new Set<string>();
  for (const e of events) {
    const input = e.data?.input;
    const useId = e.type === 'agent.tool_call' && typeof e.data?.tool_use_id === 'string' ? e.data.tool_use_id : undefined;
    if (useId && seen.has(useId)) continue;
    if (useId) seen.add(useId);
    if (e.type === 'agent.tool_call' && e.data?.tool === 'TodoWrite' && Array.isArray(input?.todos)) todos = input.todos;
    if (e.type === 'agent.task' && Array.isArray(e.data?.tasks)) todos = e.data.tasks;
    if (e.type === 'agent.tool_call' && e.data?.tool === 'TaskCreate' && input && typeof input.subject === 'string') {
      todos = [...todos, { id: String(todos.length + 1), content: input.subject, description: input.description ?? null, activeForm: input.activeForm ?? null, status: 'pending' }];
    }
    if (e.type === 'agent.tool_call' && e.data?.tool === 'TaskUpdate' && input?.taskId !== undefined) {
      todos = input.status === 'deleted'
        ? todos.filter(t => t.id !== String(input.taskId))
        : todos.map(t => (t.id === String(input.taskId) ? { ...t, ...(input.status ? { status: input.status } : {}), ...(input.subject ? { content: input.subject } : {}) } : t));
    }
  }
  return todos;
}
