import type { User } from 'plinth/sdk';
import type { TurnRecords, TurnView } from 'plinth/contracts/agents';
import type { Analysis, AnalysisStore } from './analysis-store';
import type { TurnInsights } from './turn-insights';
import { round } from './tips';

export interface Recommendation {
  code: 'switch_model' | 'tool_failing' | 'breaker_open' | 'low_grades' | 'frequent_tip';
  /** 3 high, 2 medium, 1 low. */
  priority: 1 | 2 | 3;
  message: string;
  evidence: Record<string, unknown>;
}

type Graded = TurnView & { grade: number | null };
const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/**
 * Recommendations across sessions, from the recent turns the caller may see (admins: everyone's):
 * their tool calls, grades, costs and tips, and the providers' breakers.
 */
export class Recommendations {
  constructor(private readonly d: { records: TurnRecords; insights: TurnInsights; analyses: AnalysisStore; limit: number }) {}

  async list(user: User): Promise<{ items: Recommendation[]; generated: Analysis | null; turnsConsidered: number }> {
    const turns = await this.d.records.recentTurns(user.role === 'admin' ? undefined : user.id, this.d.limit);
    const items = [...this.switchModels(turns), ...this.failingTools(turns), ...this.breakers(), ...this.lowGrades(turns), ...await this.frequentTips(turns)];
    items.sort((a, b) => b.priority - a.priority);
    const [generated] = await this.d.analyses.latest('recommendations', user.id, 1);
    return { items, generated: generated ?? null, turnsConsidered: turns.length };
  }

  /** The model writes recommendations from the same figures (on builtin: the figures, verbatim). */
  async generate(user: User, model?: string): Promise<Analysis> {
    const { items, turnsConsidered } = await this.list(user);
    const digest = `Across ${turnsConsidered} recent turn(s), the platform found:\n`
      + (items.length ? items.map(r => `- (priority ${r.priority}) ${r.message}`).join('\n') : '- nothing to change')
      + '\nWrite the recommendations an operator should act on, most important first.';
    return this.d.insights.write(user, 'recommendations', user.id, digest, { items, turnsConsidered }, model);
  }

  /** "switch agent X to model Y: N % cheaper at equal grades", from graded turns of the same agent. */
  private switchModels(turns: Graded[]): Recommendation[] {
    const out: Recommendation[] = [];
    const byAgent = new Map<string, Map<string, Graded[]>>();
    for (const t of turns) {
      if (!t.agent) continue;
      const models = byAgent.get(t.agent) ?? new Map<string, Graded[]>();
      models.set(t.model, [...(models.get(t.model) ?? []), t]);
      byAgent.set(t.agent, models);
    }
    for (const [agent, models] of byAgent) {
      const stats = [...models].map(([model, ts]) => ({ model, turns: ts.length, cost: avg(ts.map(t => t.cost))!, grade: avg(ts.filter(t => t.grade !== null).map(t => t.grade!)) }))
        .filter(s => s.grade !== null);
      // The most used model is taken as the agent's current one.
      const current = [...stats].sort((a, b) => b.turns - a.turns)[0];
      if (!current || current.cost <= 0) continue;
      const better = stats.filter(s => s.model !== current.model && s.grade! >= current.grade! - 0.25 && s.cost <= current.cost * 0.8)
        .sort((a, b) => a.cost - b.cost)[0];
      if (!better) continue;
      const cheaper = Math.round((1 - better.cost / current.cost) * 100);
      out.push({ code: 'switch_model', priority: cheaper >= 40 ? 3 : 2, message: `switch agent ${agent} to model ${better.model}: ${cheaper} % cheaper at equal grades`,
        evidence: { agent, current, candidate: better } });
    }
    return out;
  }

  /** "tool Z fails N % of calls", from 3 calls up and 20 % failures. */
  private failingTools(turns: Graded[]): Recommendation[] {
    const tools = new Map<string, { calls: number; failures: number; lastError: unknown }>();
    for (const t of turns) for (const c of t.tool_calls) {
      const e = tools.get(c.name) ?? { calls: 0, failures: 0, lastError: null };
      e.calls++;
      if (!c.ok) { e.failures++; e.lastError ??= c.output; }
      tools.set(c.name, e);
    }
    return [...tools].filter(([, e]) => e.calls >= 3 && e.failures / e.calls >= 0.2).map(([tool, e]) => {
      const rate = Math.round((e.failures / e.calls) * 100);
      return { code: 'tool_failing' as const, priority: rate >= 50 ? 3 : 2 as 2 | 3, message: `tool ${tool} fails ${rate} % of calls`, evidence: { tool, ...e, failureRate: e.failures / e.calls } };
    });
  }

  private breakers(): Recommendation[] {
    return this.d.records.breakers().filter(b => b.breaker !== 'closed').map(b => ({
      code: 'breaker_open' as const, priority: 3 as const, message: `provider ${b.provider} is failing (circuit breaker ${b.breaker}): give its agents a fallback model or check its key and endpoint`,
      evidence: { provider: b.provider, breaker: b.breaker },
    }));
  }

  private lowGrades(turns: Graded[]): Recommendation[] {
    const byAgent = new Map<string, number[]>();
    for (const t of turns) if (t.agent && t.grade !== null) byAgent.set(t.agent, [...(byAgent.get(t.agent) ?? []), t.grade]);
    return [...byAgent].filter(([, g]) => g.length >= 3 && avg(g)! < 3).map(([agent, g]) => ({
      code: 'low_grades' as const, priority: 2 as const, message: `agent ${agent} averages ${round(avg(g)!)} / 5 over ${g.length} graded turns: revise its instructions or model`,
      evidence: { agent, graded: g.length, averageGrade: avg(g) },
    }));
  }

  /** A tip seen on at least a fifth of the recent turns (and 3 of them) is a habit, not an accident. */
  private async frequentTips(turns: Graded[]): Promise<Recommendation[]> {
    const counts = new Map<string, { count: number; turnIds: string[]; message: string }>();
    const bySession = new Map<string, Graded[]>();
    for (const t of turns) if (t.session_id) bySession.set(t.session_id, [...(bySession.get(t.session_id) ?? []), t]);
    for (const t of turns) {
      for (const tip of await this.d.insights.tipsOf(t, t.session_id ? bySession.get(t.session_id) : undefined)) {
        const e = counts.get(tip.code) ?? { count: 0, turnIds: [], message: tip.message };
        e.count++;
        if (e.turnIds.length < 10) e.turnIds.push(t.id);
        counts.set(tip.code, e);
      }
    }
    return [...counts].filter(([, e]) => e.count >= 3 && e.count >= turns.length / 5).map(([code, e]) => ({
      code: 'frequent_tip' as const, priority: 1 as const, message: `${code} on ${e.count} of ${turns.length} recent turns, e.g. "${e.message}"`,
      evidence: { tip: code, count: e.count, turnIds: e.turnIds },
    }));
  }
}
