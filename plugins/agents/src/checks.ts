import { defineDoctorChecks, type DoctorCheckResult } from 'plinth/sdk';
import type { KeyVault } from './key-vault';
import type { ModelSettingsStore } from './model-settings';
import { resolveSettings, type AgentsConfig } from './provider-settings';

/** The doctor runs without the database, so keys and settings stored through the API are not seen here. */
const noStoredKeys = { get: () => undefined } as unknown as KeyVault;
const noStoredSettings = { provider: () => ({}), current: { providers: {} } } as unknown as ModelSettingsStore;

/**
 * `plinth doctor`: does each configured model provider answer, and does it take the key? Resolved
 * exactly as the agent loop resolves them (config first, then the granted environment).
 */
export default defineDoctorChecks<AgentsConfig>({
  async providers({ config, secrets, signal }) {
    const settings = resolveSettings(config, secrets, noStoredKeys, noStoredSettings);
    const probes: Array<{ name: string; url: string; headers: Record<string, string>; fix: string }> = [];
    if (settings.openai.configured()) {
      const key = settings.openai.apiKey();
      probes.push({ name: 'openai', url: settings.openai.baseUrl().replace(/\/+$/, '') + '/models', headers: key ? { authorization: `Bearer ${key}` } : {}, fix: 'check openai.baseUrl / OPENAI_BASE_URL and that the endpoint is up' });
    }
    if (settings.providerInfo('anthropic').configured) {
      const key = settings.anthropic.apiKey();
      probes.push({ name: 'anthropic', url: settings.anthropic.baseUrl().replace(/\/+$/, '') + '/v1/models', headers: key ? { 'x-api-key': key, 'anthropic-version': '2023-06-01' } : {}, fix: 'check anthropic.baseUrl / ANTHROPIC_BASE_URL and the network' });
    }
    if (!probes.length) return { name: 'providers', status: 'ok', detail: 'none configured: agents answer with builtin/echo (set OPENAI_BASE_URL or OPENAI_API_KEY for a real model)' };
    return Promise.all(probes.map(async (p): Promise<DoctorCheckResult> => {
      const name = `provider ${p.name}`;
      try {
        const res = await fetch(p.url, { headers: p.headers, signal: AbortSignal.any([signal, AbortSignal.timeout(4000)]) });
        await res.body?.cancel();
        if (res.status === 401 || res.status === 403) return { name, status: 'warn', detail: `${p.url} answers, but refused the key (HTTP ${res.status})`, fix: `store a valid key: PUT /api/providers/${p.name}/key` };
        return { name, status: 'ok', detail: `${p.url} answers (HTTP ${res.status})` };
      } catch (err: any) {
        return { name, status: 'fail', detail: `${p.url} is unreachable: ${err.cause?.code ?? err.name ?? err.message}`, fix: p.fix };
      }
    }));
  },
});
