import { errors, iso, reply, type Clock, type HttpRouter } from 'plinth/sdk';
import type { AdapterRegistry } from './adapter-registry';
import type { ChannelStore } from './channel-store';
import { viewDelivery, viewInbound } from './channel-rows';
import type { TraceSource } from './contract';
import type { DeliveryQueue } from './delivery-queue';
import { ChannelStatus, CodeParams, DeadLetterQuery, IdParams, InboundQuery } from './schemas';

export interface ChannelRouteDeps { store: ChannelStore; registry: AdapterRegistry; queue: DeliveryQueue; clock: Clock; traceSources: ReadonlySet<TraceSource> }

/** `/api/channels`: status, inbound, deliveries, the dead-letter queue, pairings; and `/api/traces`. */
export function registerRoutes(http: HttpRouter, { store, registry, queue, clock, traceSources }: ChannelRouteDeps): void {
  http.get('/status', { auth: 'admin', summary: 'Per channel: configured, last inbound and outbound, queue and failure counts', response: ChannelStatus }, async () => {
    const figures = await store.channelFigures();
    const names = new Set([...registry.adapters.keys(), ...figures.keys()]);
    return {
      channels: [...names].sort().map(name => {
        const adapter = registry.adapters.get(name);
        const status = adapter?.status?.() ?? { configured: !!adapter };
        const f = figures.get(name);
        return {
          name, registered: !!adapter, configured: status.configured,
          ...(status.detail ? { detail: status.detail } : !status.configured ? { detail: 'not configured' } : {}),
          lastInboundAt: iso(f?.lastInboundAt ?? null), lastOutboundAt: iso(f?.lastOutboundAt ?? null),
          inbound: f?.inbound ?? {}, deliveries: f?.deliveries ?? {}, failures: f?.failures ?? 0,
        };
      }),
    };
  });

  http.get('/inbound', { auth: 'admin', summary: 'Latest inbound messages with their trace ids', query: InboundQuery }, async req => ({
    items: (await store.inbound.list(req.query.channel as string | undefined, req.query.limit as number)).map(viewInbound), nextCursor: null,
  }));

  http.get('/deliveries/:id', { auth: 'admin', params: IdParams }, async req => {
    const d = await store.deliveries.get(req.params.id);
    if (!d) throw errors.notFound(`delivery ${req.params.id}`);
    return viewDelivery(d);
  });

  http.get('/dead-letter', { auth: 'admin', summary: 'Deliveries that ran out of attempts, newest first', query: DeadLetterQuery }, async req => {
    const limit = req.query.limit as number;
    const rows = await store.deliveries.listDead(limit + 1, req.query.cursor ? Number(req.query.cursor) : undefined);
    const items = rows.slice(0, limit);
    return { items: items.map(viewDelivery), nextCursor: rows.length > limit ? String(items[items.length - 1].seq) : null };
  });

  http.post('/dead-letter/:id/replay', { auth: 'admin', summary: 'Queue a dead letter once more (at most once: a second replay is a conflict)', params: IdParams }, async req => {
    const r = await store.deliveries.replay(req.params.id, clock.now());
    if (r === 'missing') throw errors.notFound(`delivery ${req.params.id}`);
    if (r === 'not-dead') throw errors.conflict(`delivery ${req.params.id} is not in the dead-letter queue`);
    await store.stage(r.trace_id, r.id, 'replayed', clock.now(), { replays: r.replays });
    queue.kick();
    return reply(202, viewDelivery(r));
  });

  http.get('/pairings', { auth: 'admin', summary: 'Pairing codes sent to unknown senders' }, async () => ({ items: await store.pairings.list(), nextCursor: null }));

  http.post('/pairings/:code/approve', { auth: 'admin', summary: 'Allow the sender who got this pairing code', params: CodeParams }, async req => {
    const row = await store.pairings.approve(req.params.code, clock.now());
    if (!row) {
      if (await store.pairings.byCode(req.params.code)) throw errors.conflict(`pairing ${req.params.code} is already approved`);
      throw errors.notFound(`pairing ${req.params.code}`);
    }
    return { channel: row.channel, senderId: row.sender_id, chatId: row.chat_id, state: 'approved' };
  });

  // Channel traces are admins'; other plugins' sources (the mesh) answer their owners too.
  http.get('/api/traces/:id', { auth: 'user', summary: 'Stages of an inbound message and its deliveries (or of another plugin\'s delivery), with times and errors', params: IdParams }, async req => {
    const trace = req.user!.role === 'admin' ? await store.trace(req.params.id) : undefined;
    if (trace) return trace;
    for (const source of traceSources) {
      const found = await source.find(req.params.id, req.user!);
      if (found) return found;
    }
    throw errors.notFound(`trace ${req.params.id}`);
  });
}
