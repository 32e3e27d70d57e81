import { mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { definePlugin } from 'plinth/sdk';
import { skillsRef } from './contract';
import { SkillCatalog } from './skill-catalog';
import { SkillLibrary } from './skill-library';
import { SkillStateStore } from './skill-state';
import { migrations } from './migrations';
import { registerRoutes } from './routes';
import { registerTools } from './tools';

interface Config { catalogDir?: string; pluginSources: Array<{ plugin: string; dir: string }>; watch: boolean; debounceMs: number }

export default definePlugin<{}, Config>({
  provides: [skillsRef],
  async setup({ http, tools, storage, events, config, kernel, clock, timers, log, onDispose, provide }) {
    const db = await storage.open({ migrations });
    const state = new SkillStateStore(db, () => new Date(clock.now()).toISOString());
    const dataDir = join(kernel.dataDir, 'skills');
    mkdirSync(dataDir, { recursive: true });
    const abs = (p: string) => (isAbsolute(p) ? p : resolve(p));
    const catalogDir = config.catalogDir ? abs(config.catalogDir) : undefined;
    const library = new SkillLibrary({
      dataDir, catalogDir, state, log, timers,
      onChange: ids => void events.publish('skills.changed', { ids }, { audience: 'all' }).catch(() => undefined),
    });
    const catalog = new SkillCatalog({ catalogDir, dataDir, library, state });
    for (const s of config.pluginSources) onDispose(library.registerSource({ plugin: s.plugin, dir: abs(s.dir) }));
    await library.reload();
    if (config.watch) {
      onDispose(library.watch(config.debounceMs));
      await library.ready();
    }

    registerRoutes(http, { library, catalog });
    registerTools(tools, library);
    provide(skillsRef, library);
  },
});
