import type { TurnView } from 'plinth/contracts/agents';

export interface TipSettings {
  contextWindowRatio: number;
  repeatedToolCalls: number;
  longSystemPromptChars: number;
  costMedianFactor: number;
  slowModelCallMs: number;
}

export type TipCode = 'context_near_window' | 'tool_repeated' | 'tool_error_ignored' | 'long_system_prompt' | 'cost_above_median' | 'slow_model_call' | 'fallback_model' | 'truncated_answer';

export interface Tip {
  code: TipCode;
  severity: 'info' | 'warning' | 'critical';
  message: string;
  evidence: Record<string, unknown>;
}

export interface TipContext {
  /** Costs of the session's other finished turns. */
  sessionCosts: number[];
  /** Tokens of the model the turn used, when its provider says. */
  contextWindow?: number;
}

export function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Heuristic findings on one stored turn; deterministic, no model involved. */
export function tipsFor(turn: TurnView, ctx: TipContext, s: TipSettings): Tip[] {
  const tips: Tip[] = [];
  if (ctx.contextWindow && turn.input_tokens >= s.contextWindowRatio * ctx.contextWindow) {
    const share = Math.round((turn.input_tokens / ctx.contextWindow) * 100);
    tips.push({ code: 'context_near_window', severity: share >= 95 ? 'critical' : 'warning',
      message: `the turn sent ${turn.input_tokens} input tokens, ${share} % of ${turn.model}'s window; summarise or trim the history`,
      evidence: { inputTokens: turn.input_tokens, contextWindow: ctx.contextWindow, share: share / 100 } });
  }

  const byInput = new Map<string, { name: string; input: unknown; callIds: string[] }>();
  for (const c of turn.tool_calls) {
    const key = `${c.name}\u0000${JSON.stringify(c.input)}`;
    const e = byInput.get(key) ?? { name: c.name, input: c.input, callIds: [] };
    e.callIds.push(c.id);
    byInput.set(key, e);
  }
  for (const e of byInput.values()) {
    if (e.callIds.length >= s.repeatedToolCalls) {
      tips.push({ code: 'tool_repeated', severity: 'warning',
        message: `${e.name} was called ${e.callIds.length} times with the same input; the agent may be looping`,
        evidence: { tool: e.name, input: e.input, count: e.callIds.length, callIds: e.callIds } });
    }
  }

  // A failed call that no later call of the same tool made good, in a turn that still ended "ok".
  turn.tool_calls.forEach((c, i) => {
    if (c.ok || turn.status !== 'ok') return;
    if (turn.tool_calls.slice(i + 1).some(later => later.name === c.name && later.ok)) return;
    tips.push({ code: 'tool_error_ignored', severity: 'warning',
      message: `${c.name} failed and the agent answered without retrying it or another way; check the answer does not rest on it`,
      evidence: { tool: c.name, callId: c.id, input: c.input, output: c.output } });
  });

  const system = turn.context.find(m => m.role === 'system');
  if (system && system.content.length > s.longSystemPromptChars) {
    tips.push({ code: 'long_system_prompt', severity: 'info',
      message: `the system prompt is ${system.content.length} characters; every turn pays for it — shorten the instructions or move detail into skills`,
      evidence: { chars: system.content.length, limit: s.longSystemPromptChars } });
  }

  const med = median(ctx.sessionCosts);
  if (med !== null && med > 0 && turn.cost > med * s.costMedianFactor) {
    tips.push({ code: 'cost_above_median', severity: 'warning',
      message: `this turn cost ${round(turn.cost / med)}× the session's median turn`,
      evidence: { cost: turn.cost, sessionMedian: med, factor: s.costMedianFactor, turnsCompared: ctx.sessionCosts.length } });
  }

  if (turn.latency_ms > s.slowModelCallMs) {
    tips.push({ code: 'slow_model_call', severity: 'info',
      message: `the turn took ${turn.latency_ms} ms (limit ${s.slowModelCallMs} ms); a faster model or fewer tool rounds would help`,
      evidence: { latencyMs: turn.latency_ms, ttftMs: turn.ttft_ms, limitMs: s.slowModelCallMs } });
  }

  const sel = turn.model_selection as { requested?: string; used?: string; reason?: string };
  const used = sel.used ?? turn.model;
  if (sel.requested && used && used !== sel.requested) {
    tips.push({ code: 'fallback_model', severity: 'warning',
      message: `${sel.requested} was not used; the fallback ${used} answered`,
      evidence: { requested: sel.requested, used, reason: sel.reason ?? null } });
  }

  const truncated = truncation(turn);
  if (truncated) {
    tips.push({ code: 'truncated_answer', severity: turn.status === 'error' ? 'critical' : 'warning', message: `the answer is incomplete: ${truncated}`,
      evidence: { finishReason: turn.finish_reason, status: turn.status, error: turn.error } });
  }
  return tips;
}

/**
 * Why the turn's answer is incomplete, or undefined. The model's own finish reason decides when
 * the runtime recorded one (a reply cut at the token limit is an `ok` turn); only without it
 * (the call failed, the kernel stopped, a turn recorded before reasons were kept) does the
 * turn's status.
 */
function truncation(turn: TurnView): string | undefined {
  const detail = turn.error ? ` (${turn.error})` : '';
  switch (turn.finish_reason) {
    case 'stop': return undefined;
    case 'length': return 'the model stopped at its output token limit (finish_reason length); raise max tokens or ask for less';
    case 'content_filter': return 'the provider\'s content filter withheld or cut the answer (finish_reason content_filter)';
    case 'tool_calls': return `the model still wanted to call tools when the turn ended${detail}`;
    case 'aborted': return 'the answer was aborted before the model finished';
    case 'error': return `the model call failed${detail}`;
  }
  if (turn.status === 'partial' || turn.status === 'error' || turn.status === 'interrupted') return `${turn.status}${detail}`;
  return undefined;
}

export function round(n: number): number {
  return Math.round(n * 100) / 100;
}
