import { reply, type HttpRouter } from 'plinth/sdk';
import type { AgentStore } from './agent-store';
import type { SubagentStore } from './subagent-store';
import type { Subagents } from './subagents';

const NameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 100 } } } as const;
const fields = {
  description: { type: 'string', maxLength: 2000 },
  enabled: { type: 'boolean' },
  max_cost_usd: { type: ['number', 'null'], minimum: 0 },
} as const;
const CreateBody = { type: 'object', additionalProperties: false, required: ['agent'], properties: { agent: { type: 'string', minLength: 1, maxLength: 100 }, ...fields } } as const;
const UpdateBody = { type: 'object', additionalProperties: false, minProperties: 1, properties: fields } as const;
const ToggleBody = { type: 'object', additionalProperties: false, properties: { enabled: { type: 'boolean' } } } as const;
const ListQuery = { type: 'object', additionalProperties: false, properties: { agent: { type: 'string', minLength: 1, maxLength: 100 } } } as const;

/** Sub-agent definitions: /api/subagents (the profile's name is the sub-agent's name). */
export function registerSubagentRoutes(http: HttpRouter, d: { subagentStore: SubagentStore; subagents: Subagents; agents: AgentStore }): void {
  const { subagentStore: store } = d;
  http.get('/api/subagents', { auth: 'user', query: ListQuery, summary: 'Sub-agents you can see; ?agent=<name>: those offered to that agent as tools' }, async req => {
    const items = await store.list(req.user!);
    if (!req.query.agent) return { items };
    const offered = new Set((await d.subagents.offered(await d.agents.getVisible(req.query.agent as string, req.user!), 0)).map(t => t.name.slice('subagent.'.length)));
    return { items: items.filter(s => offered.has(s.agent.name)) };
  });
  http.get('/api/subagents/:name', { auth: 'user', params: NameParams }, req => store.get(req.params.name, req.user!));
  http.post('/api/subagents', { auth: 'user', body: CreateBody, summary: 'Make an agent profile a sub-agent (admins: shared agents; users: their own)' }, async req => {
    const { agent, ...input } = req.body as { agent: string };
    return reply(201, await store.create(agent, input, req.user!));
  });
  http.put('/api/subagents/:name', { auth: 'user', params: NameParams, body: UpdateBody }, req => store.update(req.params.name, req.body as any, req.user!));
  http.put('/api/subagents/:name/toggle', { auth: 'user', params: NameParams, body: ToggleBody, summary: 'Enable or disable a sub-agent (no body: flip it)' }, async req => {
    const current = await store.get(req.params.name, req.user!);
    const enabled = (req.body as { enabled?: boolean } | undefined)?.enabled ?? !current.enabled;
    return store.update(req.params.name, { enabled }, req.user!);
  });
  http.delete('/api/subagents/:name', { auth: 'user', params: NameParams }, async req => {
    await store.remove(req.params.name, req.user!);
  });
}
