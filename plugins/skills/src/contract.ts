/** Contract of the `skills` plugin (optional for the agent runtime): the catalogue of skills. */
import { createServiceRef, type Disposer } from 'plinth/sdk';

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
