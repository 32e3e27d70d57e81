import type { KeyVault } from './key-vault';

export interface AgentsConfig {
  defaultModel?: string;
  openai: { baseUrl?: string; apiKey?: string; model?: string; models?: string[] };
  anthropic: { baseUrl?: string; apiKey?: string; models: string[]; maxTokens: number };
  breaker: { failureThreshold: number; cooldownMs: number };
  requestTimeoutMs: number;
  toolTimeoutMs: number;
  prices: Record<string, { input: number; output: number }>;
  attachments: { maxBytes: number; contentTypes: string[] };
  memoryHits: number;
}

/**
 * Where each provider setting comes from, first found wins: the key stored through the API, the
 * plugin config, then the environment (OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL, ANTHROPIC_*).
 * Read at each call, so a key stored through the API applies at once.
 */
export function resolveSettings(config: AgentsConfig, secrets: Record<string, string | undefined>, vault: KeyVault) {
  const openaiBase = () => config.openai.baseUrl ?? secrets.OPENAI_BASE_URL ?? 'https://api.openai.com/v1';
  const openaiKey = () => vault.get('openai') ?? config.openai.apiKey ?? secrets.OPENAI_API_KEY;
  const openaiConfigured = () => !!(config.openai.baseUrl ?? secrets.OPENAI_BASE_URL ?? openaiKey());
  const openaiModel = () => config.openai.model ?? secrets.OPENAI_MODEL ?? 'gpt-4o-mini';
  const anthropicKey = () => vault.get('anthropic') ?? config.anthropic.apiKey ?? secrets.ANTHROPIC_API_KEY;
  const anthropicBase = () => config.anthropic.baseUrl ?? secrets.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com';
  return {
    /** builtin/echo unless a model or an OpenAI-compatible endpoint is configured. */
    defaultModel: () => config.defaultModel ?? (openaiConfigured() ? `openai/${openaiModel()}` : 'builtin/echo'),
    price: (model: string) => config.prices[model],
    openai: {
      baseUrl: openaiBase, apiKey: openaiKey, configured: openaiConfigured, timeoutMs: config.requestTimeoutMs,
      fallbackModels: () => (openaiConfigured() ? [...new Set([openaiModel(), ...(config.openai.models ?? [])])] : []),
    },
    anthropic: {
      baseUrl: anthropicBase, apiKey: anthropicKey, timeoutMs: config.requestTimeoutMs, maxTokens: config.anthropic.maxTokens,
      models: () => (anthropicKey() || config.anthropic.baseUrl || secrets.ANTHROPIC_BASE_URL ? config.anthropic.models : []),
    },
    providerInfo: (name: string) => {
      if (name === 'openai') return { configured: openaiConfigured(), baseUrl: openaiBase() };
      if (name === 'anthropic') return { configured: !!(anthropicKey() || config.anthropic.baseUrl || secrets.ANTHROPIC_BASE_URL), baseUrl: anthropicBase() };
      return { configured: true };
    },
  };
}
