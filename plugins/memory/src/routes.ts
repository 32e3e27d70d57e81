import { errors, ownerFilter, reply, type HttpRouter } from 'plinth/sdk';
import type { MemoryKind, MemoryStore } from './memory-store';
import * as S from './schemas';

/** `/api/memory`: working notes, episodes, facts, entries and search. */
export function registerRoutes(http: HttpRouter, store: MemoryStore): void {
  const list = (kind: MemoryKind, extra: Record<string, unknown> = {}) => async (req: any) =>
    store.list({ owner: ownerFilter(req.user), kind, limit: req.query.limit, cursor: req.query.cursor, ...extra, ...pick(req.params, ['session_id', 'category']) });
  const created = async (p: Promise<unknown>) => reply(201, await p);
  const removed = async (what: string, n: Promise<number>) => {
    const deleted = await n;
    if (!deleted) throw errors.notFound(what);
    return { deleted };
  };

  http.get('/working', { auth: 'user', summary: 'Working memory of every session', query: S.PageQuery }, list('working'));
  http.post('/working', { auth: 'user', body: S.WorkingBody }, req => created(store.add({ owner: req.user!.id, kind: 'working', ...bodyOf(req.body) })));
  http.get('/working/:session_id', { auth: 'user', params: S.SessionParams, query: S.PageQuery }, list('working'));
  http.post('/working/:session_id', { auth: 'user', params: S.SessionParams, body: S.WorkingInSessionBody }, req =>
    created(store.add({ owner: req.user!.id, kind: 'working', session_id: req.params.session_id, ...bodyOf(req.body) })));
  http.delete('/working/:session_id', { auth: 'user', params: S.SessionParams, summary: "Clear a session's working memory" }, req =>
    removed(`working memory of session ${req.params.session_id}`, store.remove({ owner: ownerFilter(req.user), kind: 'working', session_id: req.params.session_id })));

  http.get('/episodic', { auth: 'user', summary: 'Events, newest first, in [from, to)', query: S.EpisodicQuery }, async req =>
    store.list({ owner: ownerFilter(req.user), kind: 'episodic', limit: req.query.limit, cursor: req.query.cursor, from: req.query.from, to: req.query.to }));
  http.post('/episodic', { auth: 'user', body: S.EpisodicBody }, req => created(store.add({ owner: req.user!.id, kind: 'episodic', ...bodyOf(req.body) })));
  http.delete('/episodic/:id', { auth: 'user', params: S.IdParams }, req =>
    removed(`episode ${req.params.id}`, store.remove({ owner: ownerFilter(req.user), kind: 'episodic', id: req.params.id })));

  http.get('/semantic', { auth: 'user', summary: 'Facts of every category', query: S.PageQuery }, list('semantic'));
  http.post('/semantic', { auth: 'user', body: S.SemanticBody, summary: 'Set a fact (replaces the same category and key)' }, req =>
    created(store.add({ owner: req.user!.id, kind: 'semantic', ...bodyOf(req.body) })));
  http.get('/semantic/categories', { auth: 'user' }, async req => ({ items: await store.categories(ownerFilter(req.user)), nextCursor: null }));
  http.get('/semantic/:category', { auth: 'user', params: S.CategoryParams, query: S.PageQuery }, list('semantic'));
  http.post('/semantic/:category', { auth: 'user', params: S.CategoryParams, body: S.SemanticInCategoryBody }, req =>
    created(store.add({ owner: req.user!.id, kind: 'semantic', category: req.params.category, ...bodyOf(req.body) })));
  http.delete('/semantic/:category', { auth: 'user', params: S.CategoryParams }, req =>
    removed(`category ${req.params.category}`, store.remove({ owner: ownerFilter(req.user), kind: 'semantic', category: req.params.category })));
  http.delete('/semantic/:category/:key', { auth: 'user', params: S.FactParams }, req =>
    removed(`fact ${req.params.category}/${req.params.key}`, store.remove({ owner: ownerFilter(req.user), kind: 'semantic', category: req.params.category, key: req.params.key })));

  http.get('/entries/:id', { auth: 'user', params: S.IdParams }, async req => {
    const entry = await store.get(req.params.id);
    const owner = ownerFilter(req.user);
    if (!entry || (owner !== undefined && entry.owner !== owner)) throw errors.notFound(`memory entry ${req.params.id}`);
    return entry;
  });
  http.delete('/entries/:id', { auth: 'user', params: S.IdParams }, req =>
    removed(`memory entry ${req.params.id}`, store.remove({ owner: ownerFilter(req.user), id: req.params.id })));

  http.get('/search', { auth: 'user', summary: 'Full-text search across the three kinds, best first, with highlighted snippets', query: S.SearchQuery }, async req => {
    const q = req.query;
    const items = await store.search({
      q: q.q, owner: ownerFilter(req.user), kind: q.kind, category: q.category, session_id: q.session_id, limit: q.limit, mode: q.raw ? 'raw' : 'all',
    });
    return { items, nextCursor: null };
  });
}

/** Body fields to entry fields: a fact's `value` is its text. */
function bodyOf(body: Record<string, any>) {
  const { value, key, ...rest } = body;
  return { ...rest, text: body.text ?? value, key };
}

function pick(o: Record<string, string>, keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
