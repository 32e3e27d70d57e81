/** Contracts of the `memory` and `skills` plugins, both optional for the agent runtime. */
import { createServiceRef } from '../refs';
import type { Disposer, User } from '../types';

export interface MemoryHit {
  kind: 'working' | 'episodic' | 'semantic';
  id: string;
  text: string;
  /** With the matched words highlighted. */
  snippet?: string;
  score?: number;
}

export interface MemoryService {
  /**
   * The few items most relevant to a message, for the agent loop's context. `kinds` narrows the
   * search (the MCP server asks for semantic facts only, so episodes cannot crowd them out).
   */
  relevant(input: { user: User; sessionId?: string; query: string; limit?: number; kinds?: Array<MemoryHit['kind']> }): Promise<MemoryHit[]>;
  /** Record an event or a fact on the user's behalf. */
  remember(input: { user: User; kind: 'working' | 'episodic' | 'semantic'; sessionId?: string; category?: string; key?: string; text: string; source?: string }): Promise<{ id: string }>;
}

export const memoryRef = createServiceRef<MemoryService>({ id: 'memory.store' });

export interface SkillSummary { id: string; name: string; description: string; enabled: boolean; tools?: string[] }

export interface SkillsService {
  /** Enabled skills' names and descriptions, for agents' instructions. */
  enabled(): Promise<SkillSummary[]>;
  load(id: string): Promise<{ summary: SkillSummary; content: string } | undefined>;
  /**
   * Extension point for plugins that ship skills (the folders their manifest lists under
   * `contributes.skills`): each folder holds one skill per subfolder. The disposer removes it;
   * call it from `onDispose` (the kernel does not let a plugin read another plugin's manifest).
   */
  registerSource(source: { plugin: string; dir: string }): Disposer;
}

export const skillsRef = createServiceRef<SkillsService>({ id: 'skills.catalog' });
