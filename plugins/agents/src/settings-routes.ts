import { errors, type HttpRouter } from 'plinth/sdk';
import type { AgentLoop } from './agent-loop';
import type { KeyVault } from './key-vault';
import type { ModelSettingsChange, ModelSettingsStore } from './model-settings';
import type { ProviderRouter } from './provider-router';
import { ModelSettingsBody } from './schemas';

export interface SettingsRouteDeps {
  runtime: AgentLoop; router: ProviderRouter; vault: KeyVault; modelSettings: ModelSettingsStore;
  keyedProviders: string[];
  providerInfo(name: string): { configured: boolean; baseUrl?: string; model?: string };
}

/** What each provider's settings take through the API; other providers (builtin, a plugin's) are configured where they come from. */
const FIELDS: Record<string, string[]> = { openai: ['apiKey', 'baseUrl', 'model', 'models'], anthropic: ['apiKey', 'baseUrl', 'models'] };

type ProviderBody = Record<string, unknown>;

/** The runner's snake_case fields as aliases of Plinth's; both at once must agree. */
function alias(body: ProviderBody, field: string, other: string, where: string): unknown {
  if (body[field] !== undefined && body[other] !== undefined && body[field] !== body[other]) {
    throw errors.validation(`${where}: ${field} and ${other} are the same setting; give one`, [{ field: `body/${where}/${other}`, message: `differs from ${field}` }]);
  }
  return body[field] !== undefined ? body[field] : body[other];
}

/**
 * The coding-agent runner's settings document: providers and models in one answer. An admin sets
 * keys (stored encrypted, never answered), base URLs, models and the default model; a stored value
 * wins over the plugin config and the environment until it is set to null.
 */
export function registerSettingsRoutes(http: HttpRouter, d: SettingsRouteDeps): void {
  const { runtime, router, vault } = d;
  const document = async () => ({
    defaultModel: runtime.resolveModel('default'),
    providers: router.names().map(name => ({ name, ...d.providerInfo(name), keyStored: vault.has(name), takesKey: d.keyedProviders.includes(name), settable: FIELDS[name] ?? [] })),
    models: (await router.listModels()).map(m => m.id),
    stored: d.modelSettings.current,
  });
  http.get('/api/settings/models', { auth: 'user', summary: 'Providers and models in one document' }, document);
  http.put('/api/settings/models', {
    auth: 'admin', body: ModelSettingsBody,
    summary: 'Set provider keys, base URLs and models, and the default model (null removes a stored value); the runner\'s snake_case fields are accepted too',
  }, async req => {
    const body = req.body as { providers?: Record<string, ProviderBody> } & ProviderBody;
    const change: ModelSettingsChange = { providers: {} };
    const keys: Record<string, string | null> = {};
    const defaultModel = alias(body, 'defaultModel', 'default_model', 'defaultModel') as string | null | undefined;
    if (defaultModel) {
      try { runtime.assertModelKnown(defaultModel); } catch (err: any) { throw errors.validation(`defaultModel: ${err.message}`, [{ field: 'body/defaultModel', message: err.message }]); }
    }
    change.defaultModel = defaultModel;
    for (const [name, p] of Object.entries(body.providers ?? {})) {
      const where = `providers/${name}`;
      if (!router.has(name)) throw errors.validation(`${where}: no provider "${name}" (providers: ${router.names().join(', ')})`, [{ field: `body/${where}`, message: 'unknown provider' }]);
      const given = { apiKey: alias(p, 'apiKey', 'api_key', where), baseUrl: alias(p, 'baseUrl', 'base_url', where), model: p.model, models: p.models };
      const refused = Object.entries(given).filter(([field, v]) => v !== undefined && !(FIELDS[name] ?? []).includes(field)).map(([field]) => field);
      if (refused.length) {
        throw errors.validation(`${where}: provider "${name}" takes no ${refused.join(', ')} here (it takes ${(FIELDS[name] ?? []).join(', ') || 'nothing'}; keys: ${d.keyedProviders.join(', ')})`,
          refused.map(field => ({ field: `body/${where}/${field}`, message: 'not settable for this provider' })));
      }
      if (given.apiKey !== undefined) keys[name] = given.apiKey as string | null;
      const { apiKey: _key, ...rest } = given;
      change.providers![name] = rest as NonNullable<ModelSettingsChange['providers']>[string];
    }
    // Everything was checked before anything is written: a refused document changes nothing.
    for (const [name, key] of Object.entries(keys)) { if (key) await vault.set(name, key); else await vault.delete(name); }
    await d.modelSettings.apply(change);
    return document();
  });
}
