import { createHmac, timingSafeEqual } from 'node:crypto';
import { errors } from 'plinth/sdk';
import { RateLimitedError, type ChannelAdapter, type OutboundMessage, type WebhookResult } from 'plinth/contracts/channels';
import { errorCodes } from './errors';

/**
 * The whole contract a channel needs: verify over the raw body, parse into inbound messages
 * (with the platform's id as the dedupe key), send. Inbound: `{ id, chat, from, text }` signed
 * with `X-Signature: <hex hmac-sha256>`; outbound: `POST outboundUrl { chat, text, replyTo }`.
 */
export class WebhookChatAdapter implements ChannelAdapter {
  readonly name = 'webhook-chat';
  readonly maxTextLength = 1000;

  constructor(private readonly secret: string | undefined, private readonly outboundUrl: string | undefined) {}

  status() { return this.secret && this.outboundUrl ? { configured: true } : { configured: false, detail: 'not configured: signingSecret and outboundUrl' }; }

  verify({ headers, rawBody }: { headers: Record<string, string | string[] | undefined>; rawBody: Buffer }): void {
    if (!this.secret) throw errors.unavailable('webhook-chat is not configured');
    const given = Buffer.from(String(headers['x-signature'] ?? ''), 'hex');
    const expected = createHmac('sha256', this.secret).update(rawBody).digest();
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw errorCodes.error('PLINTH_ERR_WEBHOOK_SIGNATURE', 'bad X-Signature');
  }

  parse(body: any): WebhookResult {
    if (!body || typeof body.id !== 'string' || typeof body.text !== 'string' || typeof body.chat !== 'string') return { type: 'ignored' };
    return { type: 'messages', messages: [{ dedupeKey: body.id, kind: 'message', chatId: body.chat, senderId: String(body.from ?? body.chat), text: body.text, messageId: body.id }] };
  }

  async send(m: OutboundMessage): Promise<{ messageIds: string[] }> {
    if (!this.outboundUrl) throw errors.unavailable('webhook-chat is not configured');
    const res = await fetch(this.outboundUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chat: m.chatId, text: m.text, replyTo: m.replyTo ?? null }) });
    if (res.status === 429) throw new RateLimitedError(Number(res.headers.get('retry-after') ?? 1) * 1000);
    if (!res.ok) throw new Error(`webhook-chat send: ${res.status}`);
    const body = await res.json() as { id: string };
    return { messageIds: [body.id] };
  }
}
