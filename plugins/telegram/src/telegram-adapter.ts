import { createHash, timingSafeEqual } from 'node:crypto';
import { errors } from 'plinth/sdk';
import type { ChannelAdapter, InboundMessage, OutboundMessage, WebhookResult } from 'plinth/contracts/channels';
import { BotApiClient } from './bot-api';
import { errorCodes } from './errors';

export const TELEGRAM_MAX_TEXT = 4096;

export interface TelegramSettings { apiBaseUrl: string; botToken?: string; webhookSecret?: string; requestTimeoutMs: number }

/** Hashing both sides first makes the comparison constant-time in the length too. */
export function secretMatches(given: string | undefined, expected: string): boolean {
  const a = createHash('sha256').update(given ?? '').digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given !== undefined;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function senderName(from: any): string | undefined {
  if (!from) return undefined;
  const full = [from.first_name, from.last_name].filter(Boolean).join(' ');
  return full || from.username || undefined;
}

/**
 * An `Update` (https://core.telegram.org/bots/api#update) as inbound messages: text messages,
 * edits and callback queries; every other kind is acknowledged and ignored, because answering
 * non-2xx would make Telegram retry it forever.
 */
export function parseUpdate(update: any): WebhookResult {
  if (!update || typeof update !== 'object' || !Number.isInteger(update.update_id)) return { type: 'ignored' };
  const dedupeKey = `update:${update.update_id}`;
  const msg = update.message ?? update.edited_message;
  if (msg) {
    const text = typeof msg.text === 'string' ? msg.text : typeof msg.caption === 'string' ? msg.caption : undefined;
    if (text === undefined || !msg.chat || msg.chat.id === undefined) return { type: 'ignored' };
    const m: InboundMessage = {
      dedupeKey, kind: update.message ? 'message' : 'edit', chatId: String(msg.chat.id),
      senderId: String(msg.from?.id ?? msg.chat.id), senderName: senderName(msg.from) ?? msg.chat.title,
      messageId: msg.message_id !== undefined ? String(msg.message_id) : undefined, text,
    };
    return { type: 'messages', messages: [m] };
  }
  const cq = update.callback_query;
  if (cq && cq.from) {
    const chatId = cq.message?.chat?.id ?? cq.from.id;
    return {
      type: 'messages',
      messages: [{
        dedupeKey, kind: 'callback', chatId: String(chatId), senderId: String(cq.from.id), senderName: senderName(cq.from),
        messageId: cq.message?.message_id !== undefined ? String(cq.message.message_id) : undefined,
        text: typeof cq.data === 'string' ? cq.data : '', callbackData: typeof cq.data === 'string' ? cq.data : undefined, callbackId: String(cq.id),
      }],
    };
  }
  return { type: 'ignored' };
}

export class TelegramAdapter implements ChannelAdapter {
  readonly name = 'telegram';
  readonly maxTextLength = TELEGRAM_MAX_TEXT;
  private readonly api: BotApiClient | undefined;

  constructor(private readonly settings: TelegramSettings) {
    this.api = settings.botToken ? new BotApiClient(settings.apiBaseUrl, settings.botToken, settings.requestTimeoutMs) : undefined;
  }

  status() {
    const missing = [!this.settings.botToken && 'bot token (TELEGRAM_BOT_TOKEN)', !this.settings.webhookSecret && 'webhook secret (TELEGRAM_WEBHOOK_SECRET)'].filter(Boolean);
    return missing.length ? { configured: false, detail: `not configured: missing ${missing.join(', ')}` } : { configured: true };
  }

  /** `X-Telegram-Bot-Api-Secret-Token` is the `secret_token` given to setWebhook. */
  verify(input: { headers: Record<string, string | string[] | undefined> }): void {
    if (!this.settings.webhookSecret) throw errors.unavailable('telegram is not configured: no webhook secret');
    if (!secretMatches(header(input.headers, 'x-telegram-bot-api-secret-token'), this.settings.webhookSecret)) {
      throw errorCodes.error('PLINTH_ERR_WEBHOOK_SECRET', 'missing or wrong X-Telegram-Bot-Api-Secret-Token');
    }
  }

  parse(body: unknown): WebhookResult { return parseUpdate(body); }

  private client(): BotApiClient {
    if (!this.api) throw errors.unavailable('telegram is not configured: no bot token');
    return this.api;
  }

  async send(message: OutboundMessage): Promise<{ messageIds: string[] }> {
    const api = this.client();
    const ids: string[] = [];
    // The pipeline splits already (maxTextLength); this guards direct callers.
    const parts = message.text.length > TELEGRAM_MAX_TEXT ? chunk(message.text, TELEGRAM_MAX_TEXT) : [message.text];
    for (let i = 0; i < parts.length; i++) {
      const params: Record<string, unknown> = { chat_id: message.chatId, text: parts[i] };
      if (i === 0 && message.replyTo && /^\d+$/.test(message.replyTo)) {
        params.reply_parameters = { message_id: Number(message.replyTo), allow_sending_without_reply: true };
      }
      if (i === parts.length - 1 && message.buttons?.length) {
        params.reply_markup = { inline_keyboard: [message.buttons.map(b => ({ text: b.text, callback_data: b.data }))] };
      }
      const result = await api.call<{ message_id: number }>('sendMessage', params);
      ids.push(String(result.message_id));
    }
    return { messageIds: ids };
  }

  /** Stops the button's spinner in the client; best effort, the query is already stored. */
  async answerCallbackQuery(id: string): Promise<void> {
    await this.client().call('answerCallbackQuery', { callback_query_id: id });
  }

  async setWebhook(url: string, dropPendingUpdates: boolean): Promise<unknown> {
    if (!this.settings.webhookSecret) throw errors.unavailable('telegram is not configured: no webhook secret');
    return this.client().call('setWebhook', {
      url, secret_token: this.settings.webhookSecret, drop_pending_updates: dropPendingUpdates,
      allowed_updates: ['message', 'edited_message', 'callback_query'],
    });
  }
}

function chunk(text: string, max: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += max) out.push(text.slice(i, i + max));
  return out;
}
