import type { Disposer } from 'plinth/sdk';
import type { ChannelAdapter, ChannelRegistry, WebhookResult } from './contract';
import { errorCodes } from './errors';

/** Where adapters sign in; the pipeline and the delivery queue look them up by name. */
export class AdapterRegistry implements ChannelRegistry {
  readonly adapters = new Map<string, ChannelAdapter>();

  constructor(
    private readonly onRegister: (adapter: ChannelAdapter) => void,
    private readonly onReceive: (channel: string, result: WebhookResult) => Promise<{ accepted: number; duplicates: number }>,
    private readonly onSend: (channel: string, message: { chatId: string; text: string; dedupeKey?: string }) => Promise<string | undefined> = async () => undefined,
  ) {}

  send(channel: string, message: { chatId: string; text: string; dedupeKey?: string }): Promise<string | undefined> {
    if (!this.adapters.has(channel)) throw errorCodes.error('PLINTH_ERR_CHANNEL_UNKNOWN', `channel ${channel} has no registered adapter`);
    return this.onSend(channel, message);
  }

  register(adapter: ChannelAdapter): Disposer {
    if (!adapter || !/^[a-z][a-z0-9-]{0,62}$/.test(adapter.name ?? '')) {
      throw errorCodes.error('PLINTH_ERR_CHANNEL_NAME', `a channel adapter needs a name like "telegram" (got ${JSON.stringify(adapter?.name)})`);
    }
    // A reloading adapter plugin registers its new generation before the old one is disposed: the newer wins.
    this.adapters.set(adapter.name, adapter);
    this.onRegister(adapter);
    return () => { if (this.adapters.get(adapter.name) === adapter) this.adapters.delete(adapter.name); };
  }

  receive(channel: string, result: WebhookResult): Promise<{ accepted: number; duplicates: number }> {
    if (!this.adapters.has(channel)) throw errorCodes.error('PLINTH_ERR_CHANNEL_UNKNOWN', `channel ${channel} has no registered adapter`);
    return this.onReceive(channel, result);
  }
}
