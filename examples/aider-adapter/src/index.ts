import { definePlugin } from 'plinth/sdk';
import { cliAdaptersRef } from 'plinth/contracts/runs';
import { aiderAdapter } from './aider-adapter';

export default definePlugin<{ adapters: typeof cliAdaptersRef }, { binary: string }>({
  deps: { adapters: cliAdaptersRef },
  setup({ adapters, config, onDispose }) {
    // An agent with kind `cli` and cli_name `aider` now runs through this adapter.
    onDispose(adapters.register(aiderAdapter(config)));
  },
});
