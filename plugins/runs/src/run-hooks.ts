import { createHash, timingSafeEqual } from 'node:crypto';
import { errors, type AuthService, type EventBus, type ToolPolicyService } from 'plinth/sdk';
import type { RunEventLog } from './event-log';
import { mapHook } from './hooks';
import type { RunRow, RunStore } from './run-store';

export interface HookDeps {
  store: RunStore; log: RunEventLog; events: EventBus; auth: AuthService; gate: () => ToolPolicyService | undefined; now(): string;
}

/** A run's token is stored as this hash only. */
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** A hook from the CLI. Only the run's own token is accepted; anything else is a 401. */
export async function handleHook(d: HookDeps, id: string, token: string | undefined, body: unknown): Promise<unknown> {
  const run = await d.store.run(id);
  if (!run || !token || !safeEqual(hashToken(token), run.token_hash)) throw errors.unauthorized('a run hook needs that run\'s token');
  const ev = mapHook(body);
  if (ev.sessionId && ev.sessionId !== run.session_id) await d.store.updateRun(id, { session_id: ev.sessionId }, d.now());
  const stored = await d.log.append(id, ev.type, ev.data);
  if (ev.type === 'agent.needs_attention') {
    await d.events.publish('runs.needs_attention', { run_id: id, message: ev.data.message ?? null }, { owner: run.owner }).catch(() => undefined);
  }
  if (ev.preToolUse) return preToolDecision(d, run, ev.data);
  return { ok: true, seq: stored.seq };
}

/**
 * When the agent's provider_config has `approve_tools` (true, or a list of tool names), a
 * PreToolUse waits for the approvals gate and answers in Claude Code's hook output format.
 */
async function preToolDecision(d: HookDeps, run: RunRow, data: Record<string, unknown>): Promise<unknown> {
  const config = JSON.parse(run.config);
  const wanted = config.approve_tools === true || (Array.isArray(config.approve_tools) && config.approve_tools.includes(data.tool));
  if (!wanted) return {};
  const gate = d.gate();
  const answer = (allow: boolean, reason: string) =>
    ({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: allow ? 'allow' : 'deny', permissionDecisionReason: reason } });
  if (!gate) return answer(false, 'approvals are required for this agent but no approvals plugin is active');
  const user = await d.auth.getUser(run.owner);
  if (!user) return answer(false, 'the run owner no longer exists');
  const decision = await gate.request({ tool: `cli.${String(data.tool)}`, input: data.input, ctx: { user, via: `run:${run.id}` }, risk: 'gated' });
  await d.log.append(run.id, 'agent.approval', { tool: data.tool, approved: decision.approved, reason: decision.reason ?? null });
  return answer(decision.approved, decision.reason ?? (decision.approved ? 'approved' : 'denied'));
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a); const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
