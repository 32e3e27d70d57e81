import { reply, type HttpRouter, type User } from 'plinth/sdk';
import type { AgentStore } from './agent-store';
import type { InstanceStore } from './instance-store';
import type { Instances } from './instances';
import { IdParams } from './schemas';

const QueueBody = { type: 'object', additionalProperties: false, required: ['message'], properties: { message: { type: 'string', minLength: 1, maxLength: 100_000 }, source: { type: 'string', minLength: 1, maxLength: 200 } } } as const;

/** Agent instances under the plugin's prefix: /api/agents/:id/start, /stop and /queue (GET /api/agents?view=instances is in agent-routes.ts). */
export function registerInstanceRoutes(http: HttpRouter, d: { agents: AgentStore; instances: Instances; instanceStore: InstanceStore }): void {
  const controlled = (id: string, user: User) => d.instances.controlled(id, user);
  const state = async (agentId: string) => (await d.instances.view([(await d.agents.find(agentId))!]))[0];

  http.post('/:id/start', { auth: 'user', params: IdParams, summary: 'Run the agent as a long-lived instance (kept running across restarts)' }, async req => {
    const agent = await controlled(req.params.id, req.user!);
    await d.instances.start(agent, req.user!);
    return state(agent.id);
  });
  http.post('/:id/stop', { auth: 'user', params: IdParams, summary: 'Stop the instance; a turn in flight finishes first (state stopping)' }, async req => {
    const agent = await controlled(req.params.id, req.user!);
    await d.instances.stop(agent);
    return state(agent.id);
  });
  http.post('/:id/queue', { auth: 'user', params: IdParams, body: QueueBody, summary: 'Queue a message for the instance (kept until its turn is done)' }, async req => {
    const agent = await controlled(req.params.id, req.user!);
    return reply(201, await d.instances.enqueueForInstance(agent.id, { message: req.body.message, source: req.body.source ?? 'api' }, req.user!));
  });
  http.get('/:id/queue', { auth: 'user', params: IdParams, summary: 'The instance\'s queue, newest first' }, async req => {
    const agent = await controlled(req.params.id, req.user!);
    return { items: await d.instanceStore.queue(agent.id), nextCursor: null };
  });
}
