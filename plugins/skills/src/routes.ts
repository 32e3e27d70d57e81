import { reply, type HttpRouter } from 'plinth/sdk';
import type { SkillCatalog } from './skill-catalog';
import type { SkillLibrary } from './skill-library';
import * as S from './schemas';

/** `/api/skills`: the loaded skills, their audit, the catalog and toggles. */
export function registerRoutes(http: HttpRouter, { library, catalog }: { library: SkillLibrary; catalog: SkillCatalog }): void {
  http.get('/', { auth: 'user', summary: 'Loaded skills, and the SKILL.md files that were skipped with the reason' }, async () => ({ ...(await library.list()), nextCursor: null }));
  http.get('/audit', { auth: 'admin', summary: 'Recorded hash against the folder on disk (drift, missing)' }, () => library.audit());
  http.get('/catalog', { auth: 'user', summary: 'Installable skills with their recorded checksum' }, () => catalog.list());
  http.post('/catalog/install', { auth: 'admin', body: S.InstallBody, summary: 'Verify and copy a catalog skill into the data dir' }, async req => reply(201, await catalog.install(req.body)));
  http.post('/catalog/activate', { auth: 'admin', body: S.ActivateBody, summary: 'Verify and use a catalog skill in place' }, req => catalog.activate(req.body));
  http.post('/reload', { auth: 'admin', body: S.ReloadBody }, req => library.reload({ accept: req.body.accept }));
  http.get('/:id', { auth: 'user', params: S.IdParams, summary: 'A skill with its content and files' }, req => library.detail(req.params.id));
  http.put('/:id/toggle', { auth: 'admin', params: S.IdParams, body: S.ToggleBody }, req => library.toggle(req.params.id, req.body.enabled));
  http.delete('/:id', { auth: 'admin', params: S.IdParams }, req => library.remove(req.params.id));
}
