import { errors, type HttpRouter, type Logger } from 'plinth/sdk';
import type { ChannelRegistry } from 'plinth/contracts/channels';
import { SetWebhookBody } from './schemas';
import type { TelegramAdapter } from './telegram-adapter';

export interface TelegramRouteDeps { adapter: TelegramAdapter; channels: ChannelRegistry; log: Logger; webhookUrl?: string }

/** The Bot API webhook, and the admin's set-webhook and status. */
export function registerRoutes(http: HttpRouter, { adapter, channels, log, webhookUrl }: TelegramRouteDeps): void {
  http.post('/api/webhooks/telegram', { auth: 'webhook', summary: 'Telegram Bot API webhook (secret token checked before anything is stored)' }, async req => {
    adapter.verify({ headers: req.headers });
    const result = adapter.parse(req.body);
    const { accepted } = await channels.receive(adapter.name, result);
    if (accepted && result.type === 'messages' && result.messages[0]?.callbackId) {
      adapter.answerCallbackQuery(result.messages[0].callbackId).catch(err => log.debug('answerCallbackQuery failed', { err: String(err) }));
    }
    return { ok: true };
  });

  http.post('/api/channels/telegram/set-webhook', { auth: 'admin', summary: 'Calls setWebhook with the URL and the webhook secret', body: SetWebhookBody }, async req => {
    const url = req.body.url ?? webhookUrl;
    if (!url) throw errors.badRequest('no url: pass { "url" } or configure webhookUrl');
    return { ok: true, result: await adapter.setWebhook(url, !!req.body.dropPendingUpdates) };
  });

  http.get('/api/channels/telegram/status', { auth: 'admin' }, () => adapter.status());
}
