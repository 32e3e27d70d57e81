import { mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { definePlugin, errors, reply } from 'plinth/sdk';
import { skillsRef } from './contract';
import { SkillCatalog } from './skill-catalog';
import { SkillLibrary } from './skill-library';
import { SkillStateStore } from './skill-state';
import { migrations } from './migrations';
import * as S from './schemas';

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

    http.get('/', { auth: 'user', summary: 'Loaded skills, and the SKILL.md files that were skipped with the reason' }, async () => ({ ...(await library.list()), nextCursor: null }));
    http.get('/audit', { auth: 'admin', summary: 'Recorded hash against the folder on disk (drift, missing)' }, () => library.audit());
    http.get('/catalog', { auth: 'user', summary: 'Installable skills with their recorded checksum' }, () => catalog.list());
    http.post('/catalog/install', { auth: 'admin', body: S.InstallBody, summary: 'Verify and copy a catalog skill into the data dir' }, async req => reply(201, await catalog.install(req.body)));
    http.post('/catalog/activate', { auth: 'admin', body: S.ActivateBody, summary: 'Verify and use a catalog skill in place' }, req => catalog.activate(req.body));
    http.post('/reload', { auth: 'admin', body: S.ReloadBody }, req => library.reload({ accept: req.body.accept }));
    http.get('/:id', { auth: 'user', params: S.IdParams, summary: 'A skill with its content and files' }, req => library.detail(req.params.id));
    http.put('/:id/toggle', { auth: 'admin', params: S.IdParams, body: S.ToggleBody }, req => library.toggle(req.params.id, req.body.enabled));
    http.delete('/:id', { auth: 'admin', params: S.IdParams }, req => library.remove(req.params.id));

    tools.register<{ id: string }, unknown>({
      name: 'load', risk: 'safe', inputSchema: S.LoadToolInput,
      description: 'Load the full instructions of one of the enabled skills listed in your instructions',
      run: async input => {
        const loaded = await library.load(input.id);
        if (!loaded) throw errors.notFound(`enabled skill ${input.id}`);
        return { id: loaded.summary.id, name: loaded.summary.name, tools: loaded.summary.tools ?? [], content: loaded.content };
      },
    });
    provide(skillsRef, library);
  },
});
