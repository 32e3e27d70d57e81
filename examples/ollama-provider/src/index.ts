import { definePlugin } from 'plinth/sdk';
import { modelProvidersRef } from 'plinth/contracts/agents';
import { OllamaProvider, type OllamaConfig } from './ollama-provider';

export default definePlugin<{ providers: typeof modelProvidersRef }, OllamaConfig>({
  deps: { providers: modelProvidersRef },
  setup({ providers, config, log, onDispose }) {
    // The disposer unregisters the provider when this generation is reloaded or disabled.
    onDispose(providers.register(new OllamaProvider(config)));
    log.info('model provider registered', { name: config.name, baseUrl: config.baseUrl });
  },
});
