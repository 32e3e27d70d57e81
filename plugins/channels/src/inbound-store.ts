import { newId, type PluginDatabase } from 'plinth/sdk';
import type { InboundMessage } from './contract';
import { nextSeq, normalize, type InboundRow, type InboundState } from './channel-rows';
import { WriteBehind } from './write-behind';

/** The chat of message `i` has a message ahead of it: unfinished and earlier, or in process under a live lease. (Parameter: now.) */
const EARLIER_OF_CHAT = `SELECT 1 FROM %T o WHERE o.channel = i.channel AND o.chat_id = i.chat_id AND o.id <> i.id
  AND (o.state = 'received' OR o.state = 'processing')
  AND ((o.state = 'processing' AND o.lease_until >= ?) OR o.arrival < i.arrival
    OR (o.arrival = i.arrival AND (o.received_at < i.received_at OR (o.received_at = i.received_at AND o.id < i.id))))`;

/** Messages the platforms sent us: stored once per dedupe key, leased to a worker, finished written behind. */
export class InboundStore {
  readonly table: string;
  readonly finishes: WriteBehind<{ id: string; state: InboundState; now: number; error: string | null }>;

  constructor(private readonly db: PluginDatabase, onWriteError: (err: unknown) => void) {
    this.table = db.table('inbound');
    this.finishes = new WriteBehind(rows => this.writeFinishes(rows), onWriteError);
  }

  /**
   * One statement for many messages (the webhook path groups concurrent requests), so ingest is
   * not bound by one write per update; the unique key makes the platform's retries a no-op, also
   * within one batch. Returns, per message, its ids or undefined for a duplicate.
   */
  async insert(items: Array<{ channel: string; m: InboundMessage }>, now: number): Promise<Array<{ id: string; traceId: string } | undefined>> {
    const ids = items.map(() => ({ id: newId('inb'), traceId: newId('trc') }));
    const values: unknown[] = [];
    items.forEach(({ channel, m }, i) => values.push(ids[i].id, channel, m.dedupeKey, ids[i].traceId, m.kind, m.chatId, m.senderId, m.senderName ?? null,
      m.messageId ?? null, m.text, m.callbackData ?? null, m.callbackId ?? null, now, now, now, nextSeq(now)));
    const rows = await this.db.query(
      `INSERT INTO ${this.table} (id, channel, dedupe_key, trace_id, kind, chat_id, sender_id, sender_name, message_id, text,
        callback_data, callback_id, state, received_at, verified_at, updated_at, arrival)
       VALUES ${items.map(() => `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?, ?, ?)`).join(', ')}
       ON CONFLICT (channel, dedupe_key) DO NOTHING RETURNING id`, values);
    const inserted = new Set(rows.map(r => r.id));
    return ids.map(x => (inserted.has(x.id) ? x : undefined));
  }

  async get(id: string): Promise<InboundRow | undefined> {
    const [row] = await this.db.query(`SELECT * FROM ${this.table} WHERE id = ?`, [id]);
    return row ? normalize<InboundRow>(row) : undefined;
  }

  /**
   * Takes a message for processing; a lease lets another worker (or kernel) take it over after a
   * crash. Only when it is its chat's turn: no earlier message of the chat unfinished and none of
   * the chat in process, so with several kernels a chat's messages are still answered one at a
   * time in arrival order — the database decides, not a variable in one process.
   */
  async claim(id: string, now: number, leaseMs: number): Promise<InboundRow | undefined> {
    const t = this.table;
    const rows = await this.db.query(
      `UPDATE ${t} SET state = 'processing', lease_until = ?, updated_at = ?
       WHERE id IN (SELECT i.id FROM ${t} i WHERE i.id = ? AND NOT EXISTS (${EARLIER_OF_CHAT.replace('%T', t)}))
         AND (state = 'received' OR (state = 'processing' AND lease_until < ?)) RETURNING *`,
      [now + leaseMs, now, id, now, now]);
    return rows[0] ? normalize<InboundRow>(rows[0]) : undefined;
  }

  /**
   * After a refused claim: whether the message still waits for its turn, and the chat's first
   * unfinished message when its lease lapsed (its kernel died) so that the waiter takes it over.
   */
  async waiting(id: string, now: number): Promise<{ pending: boolean; stale?: string }> {
    const [self] = await this.db.query(`SELECT channel, chat_id, state, lease_until FROM ${this.table} WHERE id = ?`, [id]);
    if (!self || !(self.state === 'received' || (self.state === 'processing' && Number(self.lease_until) < now))) return { pending: false };
    const [first] = await this.db.query(
      `SELECT id FROM ${this.table} WHERE channel = ? AND chat_id = ? AND state = 'processing' AND lease_until < ? ORDER BY arrival, received_at, id LIMIT 1`,
      [self.channel, self.chat_id, now]);
    return { pending: true, stale: first?.id };
  }

  /**
   * Gives a claim back without finishing the message: it stays `processing` (first in its chat, so
   * later messages still wait) with its lease over, to be claimed again. Only the claim with this
   * lease: one taken over meanwhile is not touched.
   */
  async release(id: string, leaseUntil: number | null, now: number): Promise<void> {
    await this.db.query(`UPDATE ${this.table} SET lease_until = ?, updated_at = ? WHERE id = ? AND state = 'processing' AND lease_until = ?`,
      [now - 1, now, id, leaseUntil]);
  }

  async pending(now: number, limit = 1000): Promise<string[]> {
    const rows = await this.db.query(
      `SELECT id FROM ${this.table} WHERE state = 'received' OR (state = 'processing' AND lease_until < ?) ORDER BY received_at LIMIT ?`,
      [now, limit]);
    return rows.map(r => r.id);
  }

  /**
   * Written behind, many to a statement. The lease keeps the message from being taken again
   * meanwhile; if the process dies before the write, the message is processed again after the
   * lease, and its reply's dedupe key (`reply:<inbound id>`) keeps the reply from being sent twice.
   */
  finish(id: string, state: InboundState, now: number, error?: string): Promise<void> {
    this.finishes.add({ id, state, now, error: error ?? null });
    return Promise.resolve();
  }

  private async writeFinishes(rows: Array<{ id: string; state: InboundState; now: number; error: string | null }>): Promise<void> {
    const groups = new Map<string, typeof rows>();
    for (const r of rows) {
      const key = `${r.state}\u0000${r.error ?? ''}`;
      let g = groups.get(key);
      if (!g) groups.set(key, g = []);
      g.push(r);
    }
    for (const g of groups.values()) {
      await this.db.query(`UPDATE ${this.table} SET state = ?, lease_until = NULL, updated_at = ?, error = ? WHERE id IN (${g.map(() => '?').join(', ')})`,
        [g[0].state, Math.max(...g.map(r => r.now)), g[0].error, ...g.map(r => r.id)]);
    }
  }

  async list(channel: string | undefined, limit: number): Promise<InboundRow[]> {
    await this.finishes.flush();
    const rows = channel
      ? await this.db.query(`SELECT * FROM ${this.table} WHERE channel = ? ORDER BY received_at DESC, id LIMIT ?`, [channel, limit])
      : await this.db.query(`SELECT * FROM ${this.table} ORDER BY received_at DESC, id LIMIT ?`, [limit]);
    return rows.map(r => normalize<InboundRow>(r));
  }
}
