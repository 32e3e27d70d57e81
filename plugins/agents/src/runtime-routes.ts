import { ownerFilter, type HttpRouter, type RouteRequest } from 'plinth/sdk';
import type { TurnFilter, TurnLog } from './turn-log';
import { CacheQuery, TurnLogQuery, WorkspaceQuery } from './schemas';
import { workspaceState } from './workspace-state';

/** The query of a turn log, scoped to the caller (admins: everyone's). */
function filterOf(req: RouteRequest): { f: TurnFilter; limit: number; cursor?: string } {
  const q = req.query as Record<string, any>;
  return { f: { owner: ownerFilter(req.user), sessionId: q.session_id, agent: q.agent, model: q.model, since: q.since, until: q.until }, limit: q.limit, cursor: q.cursor };
}

/** The agent runtime's views: over the turns (model selections, prompt-cache figures, the spend ledger) and its workspace folder. */
export function registerRuntimeRoutes(http: HttpRouter, d: { turnLog: TurnLog; workspaceDir: string }): void {
  http.get('/api/models/selections', { auth: 'user', query: TurnLogQuery, summary: 'The model selection log: per turn, newest first, the model asked for, the one chosen and why, the one that answered (yours; admins: all)' }, async req => {
    const { f, limit, cursor } = filterOf(req);
    return d.turnLog.selections(f, limit, cursor);
  });
  http.get('/api/stats/transactions', { auth: 'user', query: TurnLogQuery, summary: 'The spend ledger: every finished turn (proxied calls too) with tokens and cost, newest first, and the total (yours; admins: all)' }, async req => {
    const { f, limit, cursor } = filterOf(req);
    return d.turnLog.transactions(f, limit, cursor);
  });
  // The folder is the server's: its listing is for admins, like the kernel's own files.
  http.get('/api/workspace/state', { auth: 'admin', query: WorkspaceQuery, summary: 'The agent runtime\'s workspace folder: its files (sizes, times) and state (totals, last change, git branch and commit)' }, async req => {
    const q = req.query as { path?: string; max_entries: number };
    return workspaceState(d.workspaceDir, q.path, q.max_entries);
  });
  http.get('/api/stats/cache', { auth: 'user', query: CacheQuery, summary: 'Prompt-cache hits and misses per model, as providers report them (yours; admins: all)' }, async req =>
    d.turnLog.cache(filterOf(req).f));
}
