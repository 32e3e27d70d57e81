import type { ToolRisk, User } from 'plinth/sdk';

export interface PolicyConfig {
  riskOverrides: Record<string, ToolRisk>;
  autoApprove: Record<string, string[]>;
}

/** `memory.search` matches `memory.search`, `memory.*` and `*`. */
function matches(pattern: string, tool: string): boolean {
  if (pattern === '*' || pattern === tool) return true;
  return pattern.endsWith('.*') && tool.startsWith(pattern.slice(0, -1));
}

/** Tool policy from config: per-tool risk overrides (the most specific pattern wins) and per-user auto-approve lists. */
export class ToolPolicy {
  constructor(private readonly config: PolicyConfig) {}

  override(tool: string): { pattern: string; risk: ToolRisk } | undefined {
    let best: { pattern: string; risk: ToolRisk } | undefined;
    for (const [pattern, risk] of Object.entries(this.config.riskOverrides)) {
      if (!matches(pattern, tool)) continue;
      if (!best || pattern === tool || (best.pattern !== tool && pattern.length > best.pattern.length)) best = { pattern, risk };
    }
    return best;
  }

  autoApproved(tool: string, user: User): string | undefined {
    for (const key of [user.id, user.email, '*']) {
      const hit = (this.config.autoApprove[key] ?? []).find(p => matches(p, tool));
      if (hit) return `${key}:${hit}`;
    }
    return undefined;
  }
}
