import { iso } from 'plinth/sdk';
import type { InboundMessage } from './contract';

export type InboundState = 'received' | 'processing' | 'done' | 'ignored' | 'failed';
export const DELIVERY_STATES = ['queued', 'sending', 'sent', 'dead'] as const;
export type DeliveryState = typeof DELIVERY_STATES[number];

export interface InboundRow {
  id: string; channel: string; dedupe_key: string; trace_id: string; kind: InboundMessage['kind'];
  chat_id: string; sender_id: string; sender_name: string | null; message_id: string | null; text: string;
  callback_data: string | null; callback_id: string | null; state: InboundState;
  received_at: number; verified_at: number; updated_at: number; error: string | null; lease_until: number | null;
}

export interface DeliveryRow {
  id: string; seq: number; channel: string; chat_id: string; text: string; reply_to: string | null;
  buttons: Array<{ text: string; data: string }> | null; dedupe_key: string | null; trace_id: string;
  state: DeliveryState; attempts: number; failures: number; replays: number; parts_sent: number;
  message_ids: string[]; next_attempt_at: number; lease_until: number | null; last_error: string | null;
  created_at: number; updated_at: number; sent_at: number | null;
}

export interface NewDelivery {
  channel: string; chatId: string; text: string; replyTo?: string | null;
  buttons?: Array<{ text: string; data: string }>; dedupeKey?: string; traceId: string;
}

const INT = ['seq', 'attempts', 'failures', 'replays', 'parts_sent', 'next_attempt_at', 'lease_until', 'created_at', 'updated_at', 'sent_at', 'received_at', 'verified_at', 'at'];

/** PostgreSQL answers BIGINT as strings; both dialects answer JSON columns as text. */
export function normalize<T>(row: any): T {
  for (const k of INT) if (row[k] !== null && row[k] !== undefined) row[k] = Number(row[k]);
  if (typeof row.buttons === 'string') row.buttons = JSON.parse(row.buttons);
  if (typeof row.message_ids === 'string') row.message_ids = JSON.parse(row.message_ids);
  return row as T;
}

let seqCounter = 0;
/** Orders rows created within one millisecond; unique enough for keyset pagination with the id as tie-break. */
export function nextSeq(now: number): number { seqCounter = (seqCounter + 1) % 1000; return now * 1000 + seqCounter; }

export interface ChannelFigures {
  lastInboundAt: number | null; lastOutboundAt: number | null;
  inbound: Record<string, number>; deliveries: Record<string, number>; failures: number;
}

export function viewInbound(m: InboundRow) {
  return { id: m.id, channel: m.channel, dedupeKey: m.dedupe_key, traceId: m.trace_id, kind: m.kind, chatId: m.chat_id,
    senderId: m.sender_id, senderName: m.sender_name, messageId: m.message_id, text: m.text, callbackData: m.callback_data,
    state: m.state, error: m.error, receivedAt: iso(m.received_at) };
}

export function viewDelivery(d: DeliveryRow) {
  return { id: d.id, channel: d.channel, chatId: d.chat_id, text: d.text, replyTo: d.reply_to, buttons: d.buttons, traceId: d.trace_id,
    state: d.state, attempts: d.attempts, failures: d.failures, replays: d.replays, partsSent: d.parts_sent, messageIds: d.message_ids,
    lastError: d.last_error, nextAttemptAt: iso(d.next_attempt_at), createdAt: iso(d.created_at), sentAt: iso(d.sent_at) };
}
