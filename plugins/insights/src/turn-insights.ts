import type { User } from 'plinth/sdk';
import type { ModelRouter, TurnRecords, TurnView } from 'plinth/contracts/agents';
import type { Analysis, AnalysisStore } from './analysis-store';
import { errorCodes } from './errors';
import { tipsFor, type Tip, type TipSettings } from './tips';

export interface InsightSettings extends TipSettings { analysisModel?: string; recommendationTurns: number }

const ANALYST = 'You review the work of an AI agent. From the figures and findings below, say in a few sentences what went well, '
  + 'what went wrong and the one change that would help most. Cite the evidence.';

/** Tips on turns, a session's aggregate, and analyses written by a model from those. */
export class TurnInsights {
  private windows?: { at: number; map: Map<string, number> };
  constructor(private readonly d: { records: TurnRecords; models: ModelRouter; analyses: AnalysisStore; settings: InsightSettings; now: () => number }) {}

  /** Context windows by model, cached for a minute (providers may list them over the network). */
  private async contextWindow(model: string): Promise<number | undefined> {
    if (!this.windows || this.d.now() - this.windows.at > 60_000) {
      const list = await this.d.models.listModels().catch(() => []);
      this.windows = { at: this.d.now(), map: new Map(list.filter(m => m.contextWindow).map(m => [m.id, m.contextWindow!])) };
    }
    return this.windows.map.get(model);
  }

  async tipsOf(turn: TurnView, sessionTurns?: TurnView[]): Promise<Tip[]> {
    const others = turn.session_id ? (sessionTurns ?? []).filter(t => t.id !== turn.id && t.status !== 'running') : [];
    return tipsFor(turn, { sessionCosts: others.map(t => t.cost), contextWindow: await this.contextWindow(turn.model) }, this.d.settings);
  }

  async turnTips(turnId: string, user: User) {
    const turn = await this.d.records.turn(turnId, user);
    const session = turn.session_id ? await this.d.records.sessionTurns(turn.session_id, user) : [];
    return { turnId, items: await this.tipsOf(turn, session) };
  }

  async sessionInsights(sessionId: string, user: User) {
    const turns = await this.d.records.sessionTurns(sessionId, user);
    const tools: Record<string, { calls: number; errors: number }> = {};
    const tipsByKind: Record<string, number> = {};
    for (const t of turns) {
      for (const c of t.tool_calls) {
        const e = tools[c.name] ??= { calls: 0, errors: 0 };
        e.calls++;
        if (!c.ok) e.errors++;
      }
      for (const tip of await this.tipsOf(t, turns)) tipsByKind[tip.code] = (tipsByKind[tip.code] ?? 0) + 1;
    }
    const recent = await this.d.records.recentTurns(user.role === 'admin' ? undefined : user.id, this.d.settings.recommendationTurns);
    const grades = recent.filter(t => t.session_id === sessionId && t.grade !== null).map(t => t.grade!);
    const [latest] = await this.d.analyses.latest('session', sessionId, 1);
    return {
      sessionId,
      turns: turns.length,
      tokens: { input: sum(turns.map(t => t.input_tokens)), output: sum(turns.map(t => t.output_tokens)) },
      cost: Math.round(sum(turns.map(t => t.cost)) * 1e6) / 1e6,
      latencyMs: { total: sum(turns.map(t => t.latency_ms)), max: Math.max(0, ...turns.map(t => t.latency_ms)) },
      models: [...new Set(turns.map(t => t.model))],
      toolUse: tools,
      errors: turns.filter(t => t.status === 'error').length,
      tipsByKind,
      feedback: { graded: grades.length, averageGrade: grades.length ? sum(grades) / grades.length : null },
      latestAnalysis: latest ?? null,
    };
  }

  async analyzeTurn(turnId: string, user: User, model?: string): Promise<Analysis> {
    const turn = await this.d.records.turn(turnId, user);
    const session = turn.session_id ? await this.d.records.sessionTurns(turn.session_id, user) : [];
    const tips = await this.tipsOf(turn, session);
    const digest = [
      `Turn ${turn.id} of agent ${turn.agent ?? '(none)'} on ${turn.model}: status ${turn.status}, ${turn.input_tokens} input and ${turn.output_tokens} output tokens, `
        + `cost ${turn.cost} USD, ${turn.latency_ms} ms, ${turn.tool_calls.length} tool call(s)${turn.tool_calls.length ? ` (${turn.tool_calls.map(c => `${c.name}${c.ok ? '' : ' failed'}`).join(', ')})` : ''}.`,
      tips.length ? `Findings:\n${tips.map(t => `- [${t.severity}] ${t.code}: ${t.message}`).join('\n')}` : 'Findings: none.',
    ].join('\n');
    return this.write(user, 'turn', turn.id, digest, { tips }, model);
  }

  async analyzeSession(sessionId: string, user: User, model?: string): Promise<Analysis> {
    const agg = await this.sessionInsights(sessionId, user);
    if (!agg.turns) throw errorCodes.error('PLINTH_ERR_INSIGHTS_NO_TURNS', `session ${sessionId} has no turns to analyse`);
    const { latestAnalysis: _, ...figures } = agg;
    const digest = [
      `Session ${sessionId}: ${agg.turns} turn(s) on ${agg.models.join(', ')}, ${agg.tokens.input} input and ${agg.tokens.output} output tokens, cost ${agg.cost} USD, ${agg.errors} failed turn(s).`,
      `Tools: ${Object.entries(agg.toolUse).map(([n, u]) => `${n} ${u.calls} call(s), ${u.errors} failed`).join('; ') || 'none'}.`,
      `Findings by kind: ${Object.entries(agg.tipsByKind).map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}.`,
      `Feedback: ${agg.feedback.graded} graded${agg.feedback.averageGrade === null ? '' : `, average ${agg.feedback.averageGrade}`}.`,
    ].join('\n');
    return this.write(user, 'session', sessionId, digest, figures, model);
  }

  /**
   * The model reads the digest and answers; on the offline builtin model (an echo) the analysis is
   * the digest itself, so it is deterministic. The call goes through the agents' model router, so
   * its tokens and cost are also in the caller's stats.
   */
  async write(user: User, kind: Analysis['kind'], targetId: string, digest: string, findings: unknown, model?: string): Promise<Analysis> {
    const chosen = model ?? this.d.settings.analysisModel ?? this.d.records.defaultModel();
    const result = await this.d.models.chat(chosen, { messages: [{ role: 'system', content: ANALYST }, { role: 'user', content: digest }] }, undefined, { user, via: `insights:${kind}` });
    const p = this.d.records.price(result.model);
    const cost = p ? (result.usage.inputTokens * p.input + result.usage.outputTokens * p.output) / 1e6 : 0;
    return this.d.analyses.add({ owner: user.id, kind, targetId, model: result.model, text: result.text, findings, usage: result.usage, cost });
  }
}

export function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
