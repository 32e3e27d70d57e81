import { definePlugin, errors, iso, newId, reply } from 'plinth/sdk';
import { agentRuntimeRef } from 'plinth/contracts/agents';
import { approvalsRef } from 'plinth/contracts/approvals';
import { channelsRef } from './contract';
import { approvalPrompt } from './approval-prompts';
import { AdapterRegistry } from './channel-registry';
import { ChannelStore, viewDelivery, viewInbound, type NewDelivery } from './channel-store';
import { DeliveryQueue, type DeliverySettings } from './delivery-queue';
import { InboundPipeline, type PipelineSettings } from './inbound-pipeline';
import { migrations } from './migrations';
import { ChannelStatus, CodeParams, DeadLetterQuery, IdParams, InboundQuery } from './schemas';

type Config = Omit<PipelineSettings, 'inbound'> & {
  inbound: PipelineSettings['inbound'];
  delivery: DeliverySettings;
  approvals?: { channel: string; chatId: string };
};

// Both optional: channels run (and queue, trace, dead-letter) without an agent runtime or approvals.
const deps = { agents: agentRuntimeRef.asOptional(), approvals: approvalsRef.asOptional() };

export default definePlugin<typeof deps, Config>({
  deps,
  provides: [channelsRef],
  async setup({ http, storage, events, auth, clock, timers, log, config, onDispose, agents, approvals, provide }) {
    const store = new ChannelStore(await storage.open({ migrations }), err => log.error('rows written behind were not stored', { err: String(err) }));

    const enqueue = async (d: NewDelivery) => {
      const id = await store.enqueueDelivery(d, clock.now());
      if (id) {
        await store.stage(d.traceId, id, 'queued', clock.now(), { chatId: d.chatId, chars: d.text.length });
        queue.kick();
      }
      return id;
    };
    const pipeline = new InboundPipeline({ store, agents, approvals, auth, clock, log, enqueue }, config);
    const registry = new AdapterRegistry(() => queue.kick(), (channel, result) => pipeline.receive(channel, result),
      (channel, m) => enqueue({ channel, chatId: m.chatId, text: m.text, dedupeKey: m.dedupeKey, traceId: newId('trc') }));
    const queue = new DeliveryQueue(store, () => registry.adapters, config.delivery, clock, log);

    // Workers start once this generation is live (timers run at commit), and stop before storage closes.
    const recover = () => void pipeline.recover()
      .then(n => { if (n) log.info('resuming stored inbound messages', { count: n }); })
      .catch(err => log.warn('inbound recovery failed; retried on the next sweep', { err }));
    timers.setTimeout(() => {
      queue.start();
      recover();
    }, 0);
    // Not only at start: a message whose lease ran out (a crashed kernel, a failed claim) is picked up again.
    timers.setInterval(recover, Math.min(30_000, Math.max(1_000, Math.floor(config.inbound.leaseMs / 2))));
    onDispose(() => Promise.all([pipeline.stop(), queue.stop()]).then(() => store.flush()));

    if (config.approvals) {
      const target = config.approvals;
      events.subscribe('approval.requested', async event => {
        const prompt = approvalPrompt(event, target, newId('trc'));
        if (!prompt) return log.warn('approval.requested without an id; not pushed', { event: event.id });
        await enqueue(prompt).catch(err => log.warn('queuing an approval prompt failed', { err: String(err) }));
      });
    }

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
      items: (await store.listInbound(req.query.channel as string | undefined, req.query.limit as number)).map(viewInbound), nextCursor: null,
    }));

    http.get('/deliveries/:id', { auth: 'admin', params: IdParams }, async req => {
      const d = await store.getDelivery(req.params.id);
      if (!d) throw errors.notFound(`delivery ${req.params.id}`);
      return viewDelivery(d);
    });

    http.get('/dead-letter', { auth: 'admin', summary: 'Deliveries that ran out of attempts, newest first', query: DeadLetterQuery }, async req => {
      const limit = req.query.limit as number;
      const rows = await store.listDead(limit + 1, req.query.cursor ? Number(req.query.cursor) : undefined);
      const items = rows.slice(0, limit);
      return { items: items.map(viewDelivery), nextCursor: rows.length > limit ? String(items[items.length - 1].seq) : null };
    });

    http.post('/dead-letter/:id/replay', { auth: 'admin', summary: 'Queue a dead letter once more (at most once: a second replay is a conflict)', params: IdParams }, async req => {
      const r = await store.replay(req.params.id, clock.now());
      if (r === 'missing') throw errors.notFound(`delivery ${req.params.id}`);
      if (r === 'not-dead') throw errors.conflict(`delivery ${req.params.id} is not in the dead-letter queue`);
      await store.stage(r.trace_id, r.id, 'replayed', clock.now(), { replays: r.replays });
      queue.kick();
      return reply(202, viewDelivery(r));
    });

    http.get('/pairings', { auth: 'admin', summary: 'Pairing codes sent to unknown senders' }, async () => ({ items: await store.listPairings(), nextCursor: null }));

    http.post('/pairings/:code/approve', { auth: 'admin', summary: 'Allow the sender who got this pairing code', params: CodeParams }, async req => {
      const row = await store.approvePairing(req.params.code, clock.now());
      if (!row) {
        if (await store.pairingByCode(req.params.code)) throw errors.conflict(`pairing ${req.params.code} is already approved`);
        throw errors.notFound(`pairing ${req.params.code}`);
      }
      return { channel: row.channel, senderId: row.sender_id, chatId: row.chat_id, state: 'approved' };
    });

    http.get('/api/traces/:id', { auth: 'admin', summary: 'Stages of an inbound message and its deliveries, with times and errors', params: IdParams }, async req => {
      const trace = await store.trace(req.params.id);
      if (!trace) throw errors.notFound(`trace ${req.params.id}`);
      return trace;
    });

    provide(channelsRef, registry);
  },
});
