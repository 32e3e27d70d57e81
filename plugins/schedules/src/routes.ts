import { assertOwner, decodeCursor, errors, ownerFilter, pageOf, reply, type HttpRouter, type User } from 'plinth/sdk';
import type { Schedule, ScheduleStore } from './schedule-store';
import type { Scheduler } from './scheduler';
import type { ScheduleService } from './schedule-service';
import { CreateBody, IdParams, ListQuery, PatchBody } from './schemas';

const positionOf = (row: Schedule) => ({ ms: Date.parse(row.createdAt), id: row.id });

export interface ScheduleRouteDeps { store: ScheduleStore; scheduler: Scheduler; service: ScheduleService }

/** A schedule the user may see: another user's answers 404. */
export function ownedSchedule(store: ScheduleStore) {
  return async (id: string, user: User | undefined): Promise<Schedule> => {
    const s = await store.get(id);
    if (!s) throw errors.notFound(`schedule ${id}`);
    assertOwner(user, s.owner, `schedule ${id}`);
    return s;
  };
}

/** A page of the schedules `user` may see (`mine`: only its own, for an admin too). */
export async function listSchedules(store: ScheduleStore, user: User, q: { mine?: boolean; limit?: number; cursor?: string }) {
  const limit = q.limit ?? 50;
  const rows = await store.list({ owner: q.mine ? user.id : ownerFilter(user), limit, cursor: decodeCursor(q.cursor) });
  return pageOf(rows, limit, positionOf);
}

/** Deletes a schedule; the jobs it made are kept. */
export async function removeSchedule({ store, scheduler }: Pick<ScheduleRouteDeps, 'store' | 'scheduler'>, s: Schedule): Promise<void> {
  await store.remove(s.id);
  scheduler.poke();
}

/** `/api/schedules` and its `/api/cron/*` aliases. */
export function registerRoutes(http: HttpRouter, deps: ScheduleRouteDeps): void {
  const { store, service } = deps;
  const owned = ownedSchedule(store);
  const list = async (req: any) => listSchedules(store, req.user, req.query);

  // Both the /api/schedules routes and their /api/cron/jobs aliases.
  for (const base of ['', '/api/cron/jobs']) {
    http.get(base || '/', { auth: 'user', query: ListQuery, summary: 'Schedules, newest first' }, list);
    http.post(base || '/', { auth: 'user', body: CreateBody, summary: 'Create a one-shot (at) or cron schedule of a job or template' },
      async req => reply(201, await service.create(req.user!.id, req.body as any)));
    http.get(`${base}/:id`, { auth: 'user', params: IdParams }, async req => owned(req.params.id, req.user));
    http.delete(`${base}/:id`, { auth: 'user', params: IdParams, summary: 'Delete a schedule; the jobs it made are kept' }, async req => {
      await removeSchedule(deps, await owned(req.params.id, req.user));
    });
  }
  http.patch('/:id', { auth: 'user', params: IdParams, body: PatchBody }, async req => service.patch(await owned(req.params.id, req.user), req.body as any));
  http.post('/:id/enable', { auth: 'user', params: IdParams, summary: 'Enable and recompute the next run' }, async req => service.enable(await owned(req.params.id, req.user)));
  http.post('/:id/disable', { auth: 'user', params: IdParams, summary: 'Disable and clear the next run' }, async req => service.disable(await owned(req.params.id, req.user)));
  http.post('/:id/run-now', { auth: 'user', params: IdParams }, async req => reply(201, await service.runNow(await owned(req.params.id, req.user))));
  http.get('/:id/jobs', { auth: 'user', params: IdParams, summary: 'Jobs this schedule made, newest fire first' }, async req => service.jobsOf(await owned(req.params.id, req.user)));
  http.get('/api/cron/runs', { auth: 'user', query: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } } }, summary: 'Recent fires of every visible schedule' },
    async req => ({ items: await store.fires(ownerFilter(req.user), (req.query as any).limit), nextCursor: null }));
}
