/** A chat as turns, built from the agents plugin's SSE frames (live, or re-framed history). */
export type Part =
  | { type: 'text'; text: string }
  | { type: 'tool'; callId: string; name: string; arguments: string; result?: { ok: boolean; output: unknown } };

export interface Turn {
  turnId: string;
  user: string;
  parts: Part[];
  status: 'streaming' | 'done' | 'error';
  usage?: { inputTokens?: number; outputTokens?: number };
  partial?: boolean;
  error?: string;
}

/** A tool part that delegated to a sub-agent (`subagent.<name>`): who, and the child session to open once it answered. */
export function delegationOf(part: Part): { subagent: string; sessionId?: string; turnId?: string; status?: string } | undefined {
  if (part.type !== 'tool' || !part.name.startsWith('subagent.')) return undefined;
  const out = part.result?.ok ? part.result.output as { sessionId?: string; turnId?: string; status?: string } | null : undefined;
  return { subagent: part.name.slice('subagent.'.length), sessionId: out?.sessionId, turnId: out?.turnId, status: out?.status };
}

/** Applies one frame (`message`, `chunk`, `done`, `error`) to the list of turns; returns a new list. */
export function applyFrame(turns: Turn[], event: string, data: any): Turn[] {
  const id: string = data?.turnId ?? '';
  const i = turns.findIndex(t => t.turnId === id);
  const turn: Turn = i >= 0 ? { ...turns[i], parts: [...turns[i].parts] } : { turnId: id, user: '', parts: [], status: 'streaming' };
  if (event === 'message') {
    if (data.message?.role === 'user') turn.user = data.message.content ?? '';
  } else if (event === 'chunk') {
    if (data.type === 'text') {
      const last = turn.parts[turn.parts.length - 1];
      if (last?.type === 'text') turn.parts[turn.parts.length - 1] = { type: 'text', text: last.text + data.text };
      else turn.parts.push({ type: 'text', text: data.text });
    } else if (data.type === 'tool_call') {
      turn.parts.push({ type: 'tool', callId: data.call.id, name: data.call.name, arguments: data.call.arguments ?? '' });
    } else if (data.type === 'tool_result') {
      const k = turn.parts.findIndex(p => p.type === 'tool' && p.callId === data.callId);
      const result = { ok: data.ok !== false, output: data.output };
      if (k >= 0) turn.parts[k] = { ...(turn.parts[k] as Extract<Part, { type: 'tool' }>), result };
      else turn.parts.push({ type: 'tool', callId: data.callId, name: data.name, arguments: '', result });
    }
  } else if (event === 'done') {
    turn.status = 'done';
    turn.usage = data.usage;
    turn.partial = !!data.partial;
  } else if (event === 'error') {
    turn.status = 'error';
    turn.error = data?.error?.message ?? data?.message ?? 'the turn failed';
  } else {
    return turns;
  }
  const next = [...turns];
  if (i >= 0) next[i] = turn; else next.push(turn);
  return next;
}
