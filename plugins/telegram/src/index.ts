import { definePlugin } from 'plinth/sdk';
import { channelsRef } from 'plinth/contracts/channels';
import { TelegramAdapter } from './telegram-adapter';
import { registerRoutes } from './routes';

import type { Config } from './generated/types';

/** The manifest's defaults fill these in. */
type TelegramConfig = Config & Required<Pick<Config, 'apiBaseUrl' | 'requestTimeoutMs'>>;
const deps = { channels: channelsRef };

export default definePlugin<typeof deps, TelegramConfig>({
  deps,
  setup({ channels, http, config, secrets, log, onDispose }) {
    const c = config;
    // Secrets (environment) win over config, so a token never has to sit in plugin-registry.json.
    const adapter = new TelegramAdapter({
      apiBaseUrl: c.apiBaseUrl, requestTimeoutMs: c.requestTimeoutMs,
      botToken: secrets.TELEGRAM_BOT_TOKEN || c.botToken, webhookSecret: secrets.TELEGRAM_WEBHOOK_SECRET || c.webhookSecret,
    });
    onDispose(channels.register(adapter));
    if (!adapter.status().configured) log.warn(adapter.status().detail!);

    registerRoutes(http, { adapter, channels, log, webhookUrl: c.webhookUrl });
  },
});
