import type { PlinthEvent } from 'plinth/sdk';
import type { NewDelivery } from './channel-rows';

/** Button data is `approval:<id>:approve|deny` (Telegram allows 64 bytes of callback_data). */
export function approvalButtons(id: string) {
  return [{ text: 'Approve', data: `approval:${id}:approve` }, { text: 'Deny', data: `approval:${id}:deny` }];
}

export function parseApprovalCallback(data: string | null | undefined): { id: string; approved: boolean } | undefined {
  const m = /^approval:([A-Za-z0-9_-]{1,48}):(approve|deny)$/.exec(data ?? '');
  return m ? { id: m[1], approved: m[2] === 'approve' } : undefined;
}

/**
 * Builds the chat prompt for an `approval.requested` event. The approvals plugin is written
 * beside this one, so the payload is read leniently: the request itself, or `{ request }`.
 */
export function approvalPrompt(event: PlinthEvent, target: { channel: string; chatId: string }, traceId: string): NewDelivery | undefined {
  const p = (event.payload ?? {}) as Record<string, any>;
  const r = (p.request && typeof p.request === 'object' ? p.request : p) as Record<string, any>;
  if (typeof r.id !== 'string') return undefined;
  let input = '';
  try { input = JSON.stringify(r.input ?? null); } catch { input = String(r.input); }
  if (input.length > 1500) input = input.slice(0, 1500) + '…';
  const lines = [
    `Approval needed: ${r.tool ?? 'an action'}`,
    r.requester ? `Requested by: ${r.requester}` : '',
    `Input: ${input}`,
    r.expiresAt ? `Expires: ${r.expiresAt}` : '',
  ].filter(Boolean);
  return { channel: target.channel, chatId: target.chatId, text: lines.join('\n'), buttons: approvalButtons(r.id), dedupeKey: `approval:${r.id}`, traceId };
}
