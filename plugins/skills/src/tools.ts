import { errors, type ToolRegistry } from 'plinth/sdk';
import type { SkillLibrary } from './skill-library';
import * as S from './schemas';

/** `skills.load`: an agent reads one enabled skill's full instructions. */
export function registerTools(tools: ToolRegistry, library: SkillLibrary): void {
  tools.register<{ id: string }, unknown>({
    name: 'load', risk: 'safe', inputSchema: S.LoadToolInput,
    description: 'Load the full instructions of one of the enabled skills listed in your instructions',
    run: async input => {
      const loaded = await library.load(input.id);
      if (!loaded) throw errors.notFound(`enabled skill ${input.id}`);
      return { id: loaded.summary.id, name: loaded.summary.name, tools: loaded.summary.tools ?? [], content: loaded.content };
    },
  });
}
