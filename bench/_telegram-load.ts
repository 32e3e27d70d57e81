// Telegram webhook load shared by the ingest benchmarks: numbered updates (one chat per 500) POSTed
// by autocannon with the webhook secret, and the fake Bot API's count of the replies.
import { autocannon } from './_lib';

export const BOT_TOKEN = '123456:bench';
export const WEBHOOK_SECRET = 'bench_secret';

export interface ReplyStats { delivered: number; unique: number; duplicates: number; lost: number }

/** Posts numbered updates to `url`; the numbering goes on across calls (update n is answered with `mn`). */
export function telegramPoster(url: string, connections: number) {
  let n = 0;
  const body = (id: number) => JSON.stringify({
    update_id: id,
    message: { message_id: id, date: 1441645532, chat: { id: 1000 + (id % 500), type: 'private' }, from: { id: 1000 + (id % 500), first_name: 'Bench' }, text: `m${id}` },
  });
  return {
    post: (amount: number, overallRate?: number) => autocannon({
      url, connections, amount, method: 'POST', ...(overallRate ? { overallRate } : {}),
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET },
      requests: [{ setupRequest: (req: any) => ({ ...req, body: body(++n) }) }],
    }),
    get posted() { return n; },
  };
}

/** Waits (bounded) until the fake Bot API has `expect` replies, then half a second more for a late duplicate. */
export async function waitForReplies(apiBaseUrl: string, expect: number, timeoutMs = 120_000): Promise<ReplyStats & { waitedMs: number }> {
  const stats = async () => (await fetch(`${apiBaseUrl}/stats?expect=${expect}`)).json() as Promise<ReplyStats>;
  const started = Date.now();
  let s = await stats();
  while (s.delivered < expect && Date.now() - started < timeoutMs) { await new Promise(r => setTimeout(r, 250)); s = await stats(); }
  const waitedMs = Date.now() - started;
  await new Promise(r => setTimeout(r, 500));
  return { ...(await stats()), waitedMs };
}
