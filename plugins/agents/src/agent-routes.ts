import { DEVICE_SCOPE, errors, ownerFilter, reply, type HttpRouter, type ToolRegistry, type User } from 'plinth/sdk';
import type { AgentLoop } from './agent-loop';
import type { AgentStore } from './agent-store';
import type { Instances } from './instances';
import type { KeyVault } from './key-vault';
import type { ProviderRouter } from './provider-router';
import type { TurnLog } from './turn-log';
import { fromRunnerBody } from './runner-body';
import { AgentCreateBody, AgentUpdateBody, BreakerParams, IdParams, ProviderKeyBody, ProviderParams, RosterModelBody } from './schemas';

export interface AgentRouteDeps {
  agents: AgentStore;
  runtime: AgentLoop;
  router: ProviderRouter;
  vault: KeyVault;
  tools: ToolRegistry;
  /** Providers whose keys can be set through the API. */
  keyedProviders: string[];
  providerInfo(name: string): { configured: boolean; baseUrl?: string };
  instances?: Instances;
  turnLog: TurnLog;
}

/** Routes of `/api/agents` are relative (the plugin's own prefix); the others are claimed in plugin.json. */
export function registerAgentRoutes(http: HttpRouter, d: AgentRouteDeps): void {
  const { agents, runtime, router, vault } = d;

  const checkModels = (body: { model?: string; fallback_models?: string[] }) => {
    for (const m of [body.model, ...(body.fallback_models ?? [])]) if (m) runtime.assertModelKnown(m);
  };
  const checkBody = (body: { model?: string; fallback_models?: string[]; provider_config?: Record<string, unknown> | null }, user: User) => {
    assertNoProgram(body.provider_config, user);
    checkModels(body);
  };

  http.get('/', { auth: 'user', scope: DEVICE_SCOPE, summary: 'Agents you can use: shared ones and your own (?view=instances: with their instance state)' }, async req => {
    const items = await agents.list(req.user!);
    return { items: req.query.view === 'instances' && d.instances ? await d.instances.view(items) : items, nextCursor: null };
  });
  http.post('/', { auth: 'user', body: AgentCreateBody, summary: 'Create an agent (shared when an admin creates it); the coding-agent runner\'s body too' }, async req => {
    const body = fromRunnerBody(req.body);
    checkBody(body, req.user!);
    return reply(201, await agents.create(body, req.user!));
  });
  http.get('/:id', { auth: 'user', scope: DEVICE_SCOPE, params: IdParams, summary: 'An agent by id or name' }, req => agents.getVisible(req.params.id, req.user!));
  http.put('/:id', { auth: 'user', params: IdParams, body: AgentUpdateBody }, async req => {
    checkBody(req.body, req.user!);
    return agents.update(req.params.id, req.body, req.user!);
  });
  http.patch('/:id', { auth: 'user', params: IdParams, body: AgentUpdateBody }, async req => {
    checkBody(req.body, req.user!);
    return agents.update(req.params.id, req.body, req.user!);
  });
  http.delete('/:id', { auth: 'user', params: IdParams }, async req => { await agents.remove(req.params.id, req.user!); });

  http.get('/api/roster', { auth: 'user', summary: 'Agents with the model each would use now' }, async req => ({
    items: (await agents.list(req.user!)).map(a => ({
      name: a.name, kind: a.kind, role: a.role, model: a.model, resolvedModel: a.kind === 'llm' ? runtime.resolveModel(a.model) : null,
      fallback_models: a.fallback_models ?? [], cli_name: a.cli_name,
    })),
    nextCursor: null,
  }));
  http.put('/api/roster/:name/model', { auth: 'user', params: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 100 } } }, body: RosterModelBody }, async req => {
    runtime.assertModelKnown(req.body.model);
    const a = await agents.update(req.params.name, { model: req.body.model }, req.user!);
    return { name: a.name, model: a.model, resolvedModel: runtime.resolveModel(a.model) };
  });

  http.get('/api/models/available', { auth: 'user', summary: 'Models of every registered provider, as <provider>/<model>' }, async () => ({
    items: (await router.listModels()).map(m => ({ ...m, breaker: router.breaker(m.provider).status().state })),
    defaultModel: runtime.resolveModel('default'),
    nextCursor: null,
  }));

  http.get('/api/providers', { auth: 'user', summary: 'Providers, whether configured and whether a key is stored (never the key)' }, () => ({
    items: router.names().map(name => ({ name, ...d.providerInfo(name), keyStored: vault.has(name), breaker: router.breaker(name).status().state })),
    nextCursor: null,
  }));
  http.put('/api/providers/:name/key', { auth: 'admin', params: ProviderParams, body: ProviderKeyBody, summary: 'Store a provider API key, encrypted at rest' }, async req => {
    if (!d.keyedProviders.includes(req.params.name)) throw errors.notFound(`provider "${req.params.name}" that takes a key (${d.keyedProviders.join(', ')})`);
    await vault.set(req.params.name, req.body.apiKey);
    return { provider: req.params.name, keyStored: true };
  });
  http.delete('/api/providers/:name/key', { auth: 'admin', params: ProviderParams }, async req => {
    if (!await vault.delete(req.params.name)) throw errors.notFound(`stored key of provider "${req.params.name}"`);
  });

  http.get('/api/breaker/status', { auth: 'user', summary: 'Circuit breaker of each provider' }, () => ({ items: router.breakerStatus(), nextCursor: null }));
  http.post('/api/breaker/reset/:provider', { auth: 'admin', params: BreakerParams, summary: 'Close a provider breaker by hand' }, req => {
    if (!router.has(req.params.provider)) throw errors.notFound(`provider "${req.params.provider}"`);
    router.breaker(req.params.provider).reset();
    return router.breaker(req.params.provider).status();
  });

  http.get('/api/agent/status', { auth: 'user', summary: 'The runtime at a glance; cache: prompt-cache figures of the last day (yours; admins: all)' }, async req => ({
    defaultModel: runtime.resolveModel('default'),
    providers: router.names(),
    breakers: router.breakerStatus(),
    activeSessions: runtime.activeSessions().length,
    agents: (await agents.listAll()).length,
    tools: d.tools.list().filter(t => t.risk !== 'blocked').length,
    cache: await d.turnLog.lastDayCache(ownerFilter(req.user)),
  }));
}

/** provider_config keys that name a program for a `cli` agent to start. */
const PROGRAM_KEYS = ['command', 'binary', 'args'];

/**
 * A cli agent's program runs on the server: only an admin chooses it; users pick from the agents
 * and adapters an admin configured (the program still runs inside the process sandbox).
 */
function assertNoProgram(config: Record<string, unknown> | null | undefined, user: User): void {
  if (user.role === 'admin' || !config) return;
  const named = PROGRAM_KEYS.filter(k => config[k] !== undefined);
  if (named.length) throw errors.forbidden(`only admins may set provider_config.${named.join(', ')} (the program a cli agent starts); use a cli agent an admin configured`);
}
