import { errors } from 'plinth/sdk';
import { RateLimitedError, type ChannelAdapter, type InboundMessage, type OutboundMessage, type WebhookResult } from 'plinth/contracts/channels';
import { signatureMatches, tokenMatches } from './signature';
import { errorCodes } from './errors';

export interface WhatsAppSettings {
  graphBaseUrl: string; apiVersion: string; phoneNumberId?: string;
  accessToken?: string; appSecret?: string; verifyToken?: string; requestTimeoutMs: number;
}

/** Cloud API throughput errors: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes */
const RATE_LIMIT_CODES = new Set([4, 80007, 130429, 131048, 131056]);

/**
 * A webhook notification (`object: whatsapp_business_account`, `entry[].changes[].value`) as
 * text messages, button replies and delivery statuses. One notification may carry both kinds;
 * they come back as two results.
 */
export function parseNotification(body: any): WebhookResult[] {
  if (!body || body.object !== 'whatsapp_business_account' || !Array.isArray(body.entry)) return [{ type: 'ignored' }];
  const messages: InboundMessage[] = [];
  const updates: Array<{ messageId: string; status: string; error?: string }> = [];
  for (const entry of body.entry) {
    for (const change of entry?.changes ?? []) {
      const value = change?.value;
      if (change?.field !== 'messages' || !value) continue;
      const names = new Map<string, string>((value.contacts ?? []).map((c: any) => [String(c.wa_id), c.profile?.name]));
      for (const msg of value.messages ?? []) {
        if (!msg?.id || !msg.from) continue;
        const base = { dedupeKey: `message:${msg.id}`, chatId: String(msg.from), senderId: String(msg.from), senderName: names.get(String(msg.from)), messageId: String(msg.id) };
        if (msg.type === 'text' && typeof msg.text?.body === 'string') messages.push({ ...base, kind: 'message', text: msg.text.body });
        else if (msg.type === 'interactive' && msg.interactive?.type === 'button_reply') {
          const id = String(msg.interactive.button_reply.id);
          messages.push({ ...base, kind: 'callback', text: id, callbackData: id });
        }
      }
      for (const s of value.statuses ?? []) {
        if (!s?.id || !s.status) continue;
        const e = s.errors?.[0];
        updates.push({ messageId: String(s.id), status: String(s.status), ...(e ? { error: `${e.code ?? ''} ${e.title ?? e.message ?? ''}`.trim() } : {}) });
      }
    }
  }
  const out: WebhookResult[] = [];
  if (messages.length) out.push({ type: 'messages', messages });
  if (updates.length) out.push({ type: 'status', updates });
  return out.length ? out : [{ type: 'ignored' }];
}

export class WhatsAppAdapter implements ChannelAdapter {
  readonly name = 'whatsapp';
  readonly maxTextLength = 4096;

  constructor(private readonly s: WhatsAppSettings) {}

  status() {
    const missing = [
      !this.s.accessToken && 'access token (WHATSAPP_ACCESS_TOKEN)', !this.s.appSecret && 'app secret (WHATSAPP_APP_SECRET)',
      !this.s.verifyToken && 'verify token (WHATSAPP_VERIFY_TOKEN)', !this.s.phoneNumberId && 'phoneNumberId',
    ].filter(Boolean);
    return missing.length ? { configured: false, detail: `not configured: missing ${missing.join(', ')}` } : { configured: true };
  }

  /** The subscription handshake: the challenge when mode and token match, else undefined (403). */
  challenge(query: Record<string, unknown>): string | undefined {
    if (!this.s.verifyToken) return undefined;
    const mode = query['hub.mode'], token = query['hub.verify_token'], challenge = query['hub.challenge'];
    if (mode !== 'subscribe' || typeof challenge !== 'string' || typeof token !== 'string') return undefined;
    return tokenMatches(token, this.s.verifyToken) ? challenge : undefined;
  }

  verify(input: { headers: Record<string, string | string[] | undefined>; rawBody: Buffer }): void {
    if (!this.s.appSecret) throw errors.unavailable('whatsapp is not configured: no app secret');
    const h = input.headers['x-hub-signature-256'];
    if (!signatureMatches(Array.isArray(h) ? h[0] : h, input.rawBody ?? Buffer.alloc(0), this.s.appSecret)) {
      throw errorCodes.error('PLINTH_ERR_WEBHOOK_SIGNATURE', 'missing or wrong X-Hub-Signature-256');
    }
  }

  parse(body: unknown): WebhookResult { return parseNotification(body)[0]; }

  async send(message: OutboundMessage): Promise<{ messageIds: string[] }> {
    if (!this.s.accessToken || !this.s.phoneNumberId) throw errors.unavailable('whatsapp is not configured: no access token or phoneNumberId');
    const payload: Record<string, unknown> = { messaging_product: 'whatsapp', recipient_type: 'individual', to: message.chatId };
    if (message.buttons?.length) {
      // Reply buttons: at most 3, titles of at most 20 characters.
      payload.type = 'interactive';
      payload.interactive = {
        type: 'button', body: { text: message.text.slice(0, 1024) },
        action: { buttons: message.buttons.slice(0, 3).map(b => ({ type: 'reply', reply: { id: b.data, title: b.text.slice(0, 20) } })) },
      };
    } else {
      payload.type = 'text';
      payload.text = { preview_url: false, body: message.text };
    }
    if (message.replyTo) payload.context = { message_id: message.replyTo };
    const url = `${this.s.graphBaseUrl.replace(/\/$/, '')}/${this.s.apiVersion}/${this.s.phoneNumberId}/messages`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${this.s.accessToken}` },
        body: JSON.stringify(payload), signal: AbortSignal.timeout(this.s.requestTimeoutMs),
      });
    } catch (err: any) {
      throw new Error(`whatsapp send: ${err?.name === 'TimeoutError' ? 'timed out' : 'network error'} (${err?.cause?.code ?? err?.name ?? 'unknown'})`, { cause: err });
    }
    let body: any;
    try { body = await res.json(); } catch { body = undefined; }
    if (res.ok && Array.isArray(body?.messages)) return { messageIds: body.messages.map((m: any) => String(m.id)) };
    const code = Number(body?.error?.code);
    if (res.status === 429 || RATE_LIMIT_CODES.has(code)) {
      const after = Number(res.headers.get('retry-after'));
      throw new RateLimitedError(Number.isFinite(after) && after >= 0 && res.headers.get('retry-after') !== null ? after * 1000 : 60_000,
        `whatsapp send: ${res.status} ${body?.error?.message ?? 'rate limited'}`);
    }
    throw new Error(`whatsapp send: ${res.status} ${body?.error?.code ?? ''} ${body?.error?.message ?? res.statusText}`.replace(/\s+/g, ' ').trim());
  }
}
