import { definePlugin, reply } from 'plinth/sdk';
import { channelsRef } from 'plinth/contracts/channels';
import { parseNotification, WhatsAppAdapter } from './whatsapp-adapter';

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

    http.get('/api/webhooks/whatsapp', { auth: 'webhook', summary: 'Cloud API subscription handshake (hub.challenge)' }, req => {
      const challenge = adapter.challenge(req.query);
      return challenge === undefined
        ? reply(403, { error: { code: 'PLINTH_ERR_FORBIDDEN', message: 'verification failed: hub.mode must be subscribe and hub.verify_token must match' } })
        : reply(200, challenge, { type: 'text/plain' });
    });

    http.post('/api/webhooks/whatsapp', { auth: 'webhook', summary: 'Cloud API webhook (X-Hub-Signature-256 checked before anything is stored)' }, async req => {
      adapter.verify({ headers: req.headers, rawBody: req.rawBody ?? Buffer.alloc(0) });
      for (const result of parseNotification(req.body)) await channels.receive(adapter.name, result);
      return { ok: true };
    });

    http.get('/api/channels/whatsapp/status', { auth: 'admin' }, () => adapter.status());
  },
});
