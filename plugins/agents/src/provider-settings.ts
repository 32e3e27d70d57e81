import type { KeyVault } from './key-vault';
import type { ModelSettingsStore } from './model-settings';

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
  subagents: { maxDepth: number; maxCostUsd?: number };
  instances: { pollMs: number; leaseMs: number };
  workspaceDir: string;
}

/**
 * Where each provider setting comes from, first found wins: what an admin stored through the API
 * (keys in the vault, the rest in the models settings document), the plugin config, then the
 * environment (OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL, ANTHROPIC_*). Read at each call, so
 * a setting stored through the API applies at once.
 */
export function resolveSettings(config: AgentsConfig, secrets: Record<string, string | undefined>, vault: KeyVault, stored: ModelSettingsStore) {
  const openai = () => stored.provider('openai');
  const anthropic = () => stored.provider('anthropic');
  const openaiUrl = () => openai().baseUrl ?? config.openai.baseUrl ?? secrets.OPENAI_BASE_URL;
  const openaiBase = () => openaiUrl() ?? 'https://api.openai.com/v1';
  const openaiKey = () => vault.get('openai') ?? config.openai.apiKey ?? secrets.OPENAI_API_KEY;
  const openaiConfigured = () => !!(openaiUrl() ?? openaiKey());
  const openaiModel = () => openai().model ?? config.openai.model ?? secrets.OPENAI_MODEL ?? 'gpt-4o-mini';
  const anthropicKey = () => vault.get('anthropic') ?? config.anthropic.apiKey ?? secrets.ANTHROPIC_API_KEY;
  const anthropicUrl = () => anthropic().baseUrl ?? config.anthropic.baseUrl ?? secrets.ANTHROPIC_BASE_URL;
  const anthropicBase = () => anthropicUrl() ?? 'https://api.anthropic.com';
  return {
    /** builtin/echo unless a model or an OpenAI-compatible endpoint is configured. */
    defaultModel: () => stored.current.defaultModel ?? config.defaultModel ?? (openaiConfigured() ? `openai/${openaiModel()}` : 'builtin/echo'),
    price: (model: string) => config.prices[model],
    openai: {
      baseUrl: openaiBase, apiKey: openaiKey, configured: openaiConfigured, timeoutMs: config.requestTimeoutMs,
      fallbackModels: () => (openaiConfigured() ? [...new Set([openaiModel(), ...(openai().models ?? config.openai.models ?? [])])] : []),
    },
    anthropic: {
      baseUrl: anthropicBase, apiKey: anthropicKey, timeoutMs: config.requestTimeoutMs, maxTokens: config.anthropic.maxTokens,
      models: () => (anthropicKey() || anthropicUrl() ? anthropic().models ?? config.anthropic.models : []),
    },
    providerInfo: (name: string) => {
      if (name === 'openai') return { configured: openaiConfigured(), baseUrl: openaiBase(), model: openaiModel() };
      if (name === 'anthropic') return { configured: !!(anthropicKey() || anthropicUrl()), baseUrl: anthropicBase() };
      return { configured: true };
    },
  };
}
