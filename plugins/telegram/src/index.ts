import { definePlugin } from 'plinth/sdk';
import { channelsRef } from 'plinth/contracts/channels';
import { TelegramAdapter } from './telegram-adapter';
import { registerRoutes } from './routes';

interface Config { apiBaseUrl: string; botToken?: string; webhookSecret?: string; webhookUrl?: string; requestTimeoutMs: number }

export default definePlugin({
  deps: { channels: channelsRef },
  setup({ channels, http, config, secrets, log, onDispose }) {
    const c = config as Config;
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
