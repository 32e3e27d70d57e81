import type { Logger, User } from 'plinth/sdk';
import type { MemoryService } from 'plinth/contracts/memory';
import type { SkillsService } from 'plinth/contracts/skills';
import type { AgentProfile } from './contract';

export interface PromptSources { skills?: SkillsService; memory?: MemoryService; memoryHits: number; log: Logger }

/** The system prompt of a turn: the agent's instructions, the enabled skills and relevant memory. */
export async function systemPrompt(deps: PromptSources, agent: AgentProfile, user: User, sessionId: string, message: string): Promise<string> {
  const parts = [agent.instructions.trim()].filter(Boolean);
  // Memory and skills are optional plugins; their failure must not fail the turn.
  if (deps.skills) {
    try {
      const skills = (await deps.skills.enabled()).filter(s => s.enabled);
      // The id is what `skills.load` takes; a name alone leaves the model guessing.
      if (skills.length) parts.push('Skills you can use (load one\'s full instructions with the tool skills.load {"id": "<id>"}):\n' + skills.map(s => `- ${s.id}: ${s.name} — ${s.description}`).join('\n'));
    } catch (err) { deps.log.warn('skills unavailable for a turn', { error: String(err) }); }
  }
  if (deps.memory && deps.memoryHits > 0) {
    try {
      const hits = await deps.memory.relevant({ user, sessionId, query: message, limit: deps.memoryHits });
      if (hits.length) parts.push('Relevant memory:\n' + hits.map(h => `- (${h.kind}) ${h.text}`).join('\n'));
    } catch (err) { deps.log.warn('memory unavailable for a turn', { error: String(err) }); }
  }
  return parts.join('\n\n');
}
