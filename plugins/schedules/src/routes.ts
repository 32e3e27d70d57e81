import { assertOwner, decodeCursor, errors, ownerFilter, pageOf, reply, type HttpRouter, type User } from 'plinth/sdk';
import type { Schedule, ScheduleStore } from './schedule-store';
import type { Scheduler } from './scheduler';
import type { ScheduleService } from './schedule-service';
import { CreateBody, IdParams, ListQuery, PatchBody } from './schemas';

const positionOf = (row: Schedule) => ({ ms: Date.parse(row.createdAt), id: row.id });

export interface ScheduleRouteDeps { store: ScheduleStore; scheduler: Scheduler; service: ScheduleService }

/** `/api/schedules` and its `/api/cron/*` aliases. */
export function registerRoutes(http: HttpRouter, { store, scheduler, service }: ScheduleRouteDeps): void {
  const owned = async (id: string, user: User | undefined) => {
    const s = await store.get(id);
    if (!s) throw errors.notFound(`schedule ${id}`);
    assertOwner(user, s.owner, `schedule ${id}`);
    return s;
  };
  const list = async (req: any) => {
    const q = req.query;
    const rows = await store.list({ owner: q.mine ? req.user.id : ownerFilter(req.user), limit: q.limit, cursor: decodeCursor(q.cursor) });
    return pageOf(rows, q.limit, positionOf);
  };

  // Both the /api/schedules routes and their /api/cron/jobs aliases.
  for (const base of ['', '/api/cron/jobs']) {
    http.get(base || '/', { auth: 'user', query: ListQuery, summary: 'Schedules, newest first' }, list);
    http.post(base || '/', { auth: 'user', body: CreateBody, summary: 'Create a one-shot (at) or cron schedule of a job or template' },
      async req => reply(201, await service.create(req.user!.id, req.body as any)));
    http.get(`${base}/:id`, { auth: 'user', params: IdParams }, async req => owned(req.params.id, req.user));
    http.delete(`${base}/:id`, { auth: 'user', params: IdParams, summary: 'Delete a schedule; the jobs it made are kept' }, async req => {
      await store.remove((await owned(req.params.id, req.user)).id);
      scheduler.poke();
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
