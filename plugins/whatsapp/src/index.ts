import { definePlugin } from 'plinth/sdk';
import { channelsRef } from 'plinth/contracts/channels';
import { WhatsAppAdapter } from './whatsapp-adapter';
import { registerRoutes } from './routes';

interface Config {
  graphBaseUrl: string; apiVersion: string; phoneNumberId?: string;
  accessToken?: string; appSecret?: string; verifyToken?: string; requestTimeoutMs: number;
}

export default definePlugin({
  deps: { channels: channelsRef },
  setup({ channels, http, config, secrets, log, onDispose }) {
    const c = config as Config;
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
