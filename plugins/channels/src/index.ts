import { definePlugin, metricsRef, newId } from 'plinth/sdk';
import { agentRuntimeRef } from 'plinth/contracts/agents';
import { approvalsRef } from 'plinth/contracts/approvals';
import { channelsRef, traceLedgerRef, type TraceSource } from './contract';
import { approvalPrompt } from './approval-prompts';
import { AdapterRegistry } from './adapter-registry';
import { ChannelStore } from './channel-store';
import type { NewDelivery } from './channel-rows';
import { DeliveryQueue, type DeliverySettings } from './delivery-queue';
import { InboundPipeline, type PipelineSettings } from './inbound-pipeline';
import { migrations } from './migrations';
import { registerRoutes } from './routes';

type Config = Omit<PipelineSettings, 'inbound'> & {
  inbound: PipelineSettings['inbound'];
  delivery: DeliverySettings;
  approvals?: { channel: string; chatId: string };
};

// Both optional: channels run (and queue, trace, dead-letter) without an agent runtime or approvals.
const deps = { agents: agentRuntimeRef.asOptional(), approvals: approvalsRef.asOptional(), metrics: metricsRef };

export default definePlugin<typeof deps, Config>({
  deps,
  provides: [channelsRef, traceLedgerRef],
  async setup({ http, storage, events, auth, clock, timers, log, config, onDispose, agents, approvals, metrics, provide }) {
    const store = new ChannelStore(await storage.open({ migrations }), err => log.error('rows written behind were not stored', { err: String(err) }));

    const enqueue = async (d: NewDelivery) => {
      const id = await store.deliveries.enqueue(d, clock.now());
      if (id) {
        await store.stage(d.traceId, id, 'queued', clock.now(), { chatId: d.chatId, chars: d.text.length });
        queue.kick();
      }
      return id;
    };
    const pipeline = new InboundPipeline({ store, agents, approvals, auth, clock, log, enqueue }, config);
    const registry = new AdapterRegistry(() => queue.kick(), (channel, result) => pipeline.receive(channel, result),
      (channel, m) => enqueue({ channel, chatId: m.chatId, text: m.text, dedupeKey: m.dedupeKey, traceId: newId('trc') }));
    const queue = new DeliveryQueue(store, () => registry.adapters, config.delivery, clock, timers, log);

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

    metrics.gauge({
      name: 'plinth_channels_deliveries', help: 'Outbound deliveries by channel and state (queued, sending, sent, dead)', labelNames: ['channel', 'state'],
      collect: async () => (await store.deliveries.counts(registry.adapters.keys())).map(c => ({ labels: { channel: c.channel, state: c.state }, value: c.n })),
    });

    const traceSources = new Set<TraceSource>();
    registerRoutes(http, { store, registry, queue, clock, traceSources });
    provide(traceLedgerRef, { addSource: source => { traceSources.add(source); return () => { traceSources.delete(source); }; } });

    provide(channelsRef, registry);
  },
});
