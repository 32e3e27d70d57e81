import { reply, type HttpRouter } from 'plinth/sdk';
import type { ChannelRegistry } from 'plinth/contracts/channels';
import { parseNotification, type WhatsAppAdapter } from './whatsapp-adapter';

/** The Cloud API webhook (handshake and notifications), and the admin's status. */
export function registerRoutes(http: HttpRouter, { adapter, channels }: { adapter: WhatsAppAdapter; channels: ChannelRegistry }): void {
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
}
