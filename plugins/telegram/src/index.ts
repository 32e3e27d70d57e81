import { definePlugin, errors } from 'plinth/sdk';
import { channelsRef } from 'plinth/contracts/channels';
import { SetWebhookBody } from './schemas';
import { TelegramAdapter } from './telegram-adapter';

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
      const url = req.body.url ?? c.webhookUrl;
      if (!url) throw errors.badRequest('no url: pass { "url" } or configure webhookUrl');
      return { ok: true, result: await adapter.setWebhook(url, !!req.body.dropPendingUpdates) };
    });

    http.get('/api/channels/telegram/status', { auth: 'admin' }, () => adapter.status());
  },
});
