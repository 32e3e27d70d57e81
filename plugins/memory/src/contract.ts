/** Contract of the `memory` plugin (optional for the agent runtime): what agents recall and record. */
import { createServiceRef, type User } from 'plinth/sdk';

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
