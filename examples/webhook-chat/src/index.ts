import { definePlugin } from 'plinth/sdk';
import { channelsRef } from 'plinth/contracts/channels';
import { WebhookChatAdapter } from './webhook-chat-adapter';

export default definePlugin({
  deps: { channels: channelsRef },
  setup({ channels, http, config, onDispose }) {
    const { signingSecret, outboundUrl } = config as { signingSecret?: string; outboundUrl?: string };
    const adapter = new WebhookChatAdapter(signingSecret, outboundUrl);
    onDispose(channels.register(adapter));
    http.post('/api/webhooks/webhook-chat', { auth: 'webhook' }, async req => {
      adapter.verify({ headers: req.headers, rawBody: req.rawBody ?? Buffer.alloc(0) });
      return channels.receive(adapter.name, adapter.parse(req.body));
    });
  },
});
