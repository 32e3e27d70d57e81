import { definePlugin } from 'plinth/sdk';
import { channelsRef } from 'plinth/contracts/channels';
import { WhatsAppAdapter } from './whatsapp-adapter';
import { registerRoutes } from './routes';

import type { Config } from './generated/types';

/** The manifest's defaults fill these in. */
type WhatsAppConfig = Config & Required<Pick<Config, 'graphBaseUrl' | 'apiVersion' | 'requestTimeoutMs'>>;
const deps = { channels: channelsRef };

export default definePlugin<typeof deps, WhatsAppConfig>({
  deps,
  setup({ channels, http, config, secrets, log, onDispose }) {
    const c = config;
    // Secrets (environment) win over config, so tokens never have to sit in plugin-registry.json.
    const adapter = new WhatsAppAdapter({
      ...c,
      accessToken: secrets.WHATSAPP_ACCESS_TOKEN || c.accessToken,
      appSecret: secrets.WHATSAPP_APP_SECRET || c.appSecret,
      verifyToken: secrets.WHATSAPP_VERIFY_TOKEN || c.verifyToken,
    });
    onDispose(channels.register(adapter));
    if (!adapter.status().configured) log.warn(adapter.status().detail!);

    registerRoutes(http, { adapter, channels });
  },
});
