/** Contract of channel adapters (Telegram, WhatsApp, third-party), owned by the `channels` plugin. */
import { createServiceRef, type Disposer, type User } from 'plinth/sdk';

export interface InboundMessage {
  /** The platform's id for this update/message: duplicates with the same key are processed once. */
  dedupeKey: string;
  chatId: string;
  senderId: string;
  text: string;
  messageId?: string;
  kind: 'message' | 'edit' | 'callback';
  /** For callback queries: the button's data. */
  callbackData?: string;
  /** Display name of the sender, for traces and agent context. */
  senderName?: string;
  /** For callback queries: the platform's id of the query, to acknowledge it. */
  callbackId?: string;
}

export type WebhookResult =
  | { type: 'messages'; messages: InboundMessage[] }
  | { type: 'status'; updates: Array<{ messageId: string; status: string; error?: string }> }
  | { type: 'ignored' };

export interface OutboundMessage { chatId: string; text: string; replyTo?: string; buttons?: Array<{ text: string; data: string }> }

/** Thrown by `send` when the platform asks to slow down. */
export class RateLimitedError extends Error {
  constructor(readonly retryAfterMs: number, message = 'rate limited') { super(message); this.name = 'RateLimitedError'; }
}

export interface ChannelAdapter {
  name: string;
  /**
   * Longest text one platform message may carry (Telegram and WhatsApp: 4,096). The pipeline
   * splits longer replies and sends the parts in order, remembering which were sent, so a retry
   * never repeats a part the platform already took.
   */
  maxTextLength?: number;
  /** For `GET /api/channels/status`: whether the secrets it needs are present ("not configured" rather than failing). */
  status?(): { configured: boolean; detail?: string };
  /** Verifies the webhook (signature, secret) over the raw body; throw PlinthError 401 when wrong. */
  verify(input: { headers: Record<string, string | string[] | undefined>; rawBody: Buffer }): void;
  parse(body: unknown): WebhookResult;
  send(message: OutboundMessage): Promise<{ messageIds: string[] }>;
}

export interface ChannelRegistry {
  register(adapter: ChannelAdapter): Disposer;
  /** Hand verified inbound messages to the shared pipeline (store, dedupe, route, reply). */
  receive(channel: string, result: WebhookResult): Promise<{ accepted: number; duplicates: number }>;
  /**
   * Queue an outbound message on the durable delivery queue (retries with backoff, dead letters),
   * sent by the adapter named `channel`. A repeated `dedupeKey` is queued once.
   */
  send(channel: string, message: { chatId: string; text: string; dedupeKey?: string }): Promise<string | undefined>;
}

export const channelsRef = createServiceRef<ChannelRegistry>({ id: 'channels.registry' });

/**
 * An extension point of the trace ledger: `GET /api/traces/:id` is the channels plugin's route,
 * and other plugins with traces of the same shape (the mesh's deliveries) add a source here
 * instead of claiming the path a second time. A source answers the trace if `user` may see it.
 */
export interface TraceSource {
  find(id: string, user: User): Promise<unknown | undefined>;
}
export interface TraceLedger { addSource(source: TraceSource): Disposer }

export const traceLedgerRef = createServiceRef<TraceLedger>({ id: 'channels.traces' });
