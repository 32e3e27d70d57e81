import { errors, type ToolRegistry } from 'plinth/sdk';
import type { MemoryStore } from './memory-store';
import * as S from './schemas';

/** `memory.search`, `memory.remember`, `memory.forget`: the agent's hands on the user's memory. */
export function registerTools(tools: ToolRegistry, store: MemoryStore): void {
  tools.register<any, unknown>({
    name: 'search', risk: 'safe', inputSchema: S.SearchToolInput,
    description: "Full-text search of the user's memory (facts, past events, this session's notes); every word must match",
    run: async (input, ctx) => (await store.search({
      q: input.query, owner: ctx.user.id, kind: input.kind, category: input.category, limit: input.limit,
      workingSession: ctx.sessionId ?? null,
    })).map(h => ({ id: h.id, kind: h.kind, category: h.category, key: h.key, snippet: h.snippet, text: h.text, occurred_at: h.occurred_at })),
  });
  tools.register<any, unknown>({
    name: 'remember', risk: 'safe', inputSchema: S.RememberToolInput,
    description: 'Remember something for this user: a fact (category + key + text), an event, or a note for this session',
    run: (input, ctx) => store.remember({
      user: ctx.user, kind: input.kind ?? 'semantic', text: input.text, category: input.category, key: input.key,
      sessionId: ctx.sessionId, source: `tool:${ctx.via ?? 'agent'}`,
    }),
  });
  tools.register<any, unknown>({
    name: 'forget', risk: 'safe', inputSchema: S.ForgetToolInput,
    description: 'Forget one memory entry by its id (as found by memory.search)',
    run: async (input, ctx) => {
      const deleted = await store.remove({ owner: ctx.user.id, id: input.id });
      if (!deleted) throw errors.notFound(`memory entry ${input.id}`);
      return { deleted };
    },
  });
}
