import { newId, type PluginDatabase } from 'plinth/sdk';
import { DELIVERY_STATES, nextSeq, normalize, type DeliveryRow, type DeliveryState, type NewDelivery } from './channel-rows';
import { WriteBehind } from './write-behind';

/** The outbound queue: one row per reply, claimed under a lease, retried, dead-lettered and replayed. */
export class DeliveryStore {
  readonly table: string;
  private readonly platformTable: string;
  readonly platformIds: WriteBehind<unknown[]>;

  constructor(private readonly db: PluginDatabase, onWriteError: (err: unknown) => void) {
    this.table = db.table('deliveries');
    this.platformTable = db.table('platform_messages');
    this.platformIds = new WriteBehind(rows => db.query(
      `INSERT INTO ${this.platformTable} (channel, platform_id, delivery_id, trace_id) VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')} ON CONFLICT (channel, platform_id) DO NOTHING`, rows.flat()).then(() => undefined), onWriteError);
  }

  /** Undefined when a delivery with the same dedupe key exists (an approval prompt pushed twice). */
  async enqueue(d: NewDelivery, now: number): Promise<string | undefined> {
    const id = newId('dlv');
    const rows = await this.db.query(
      `INSERT INTO ${this.table} (id, seq, channel, chat_id, text, reply_to, buttons, dedupe_key, trace_id, state, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?) ON CONFLICT (channel, dedupe_key) DO NOTHING RETURNING id`,
      [id, nextSeq(now), d.channel, d.chatId, d.text, d.replyTo ?? null, d.buttons?.length ? JSON.stringify(d.buttons) : null,
        d.dedupeKey ?? null, d.traceId, now, now, now]);
    return rows[0]?.id;
  }

  /**
   * The next due delivery of a channel we can send on, decided by the database so that several
   * kernels never take the same one. A chat with a delivery in flight waits, so replies to one
   * chat leave in order; an expired lease (a crash mid-send) is taken over.
   */
  async claim(channels: string[], now: number, leaseMs: number): Promise<DeliveryRow | undefined> {
    if (!channels.length) return undefined;
    const t = this.table;
    const marks = channels.map(() => '?').join(', ');
    const rows = await this.db.query(
      `UPDATE ${t} SET state = 'sending', lease_until = ?, attempts = attempts + 1, updated_at = ?
       WHERE id IN (
         SELECT d.id FROM ${t} d
         WHERE d.channel IN (${marks})
           AND ((d.state = 'queued' AND d.next_attempt_at <= ?) OR (d.state = 'sending' AND d.lease_until < ?))
           AND NOT EXISTS (SELECT 1 FROM ${t} o WHERE o.channel = d.channel AND o.chat_id = d.chat_id AND o.state = 'sending' AND o.lease_until >= ? AND o.id <> d.id)
         ORDER BY d.next_attempt_at, d.seq LIMIT 1)
         AND ((state = 'queued' AND next_attempt_at <= ?) OR (state = 'sending' AND lease_until < ?))
       RETURNING *`,
      [now + leaseMs, now, ...channels, now, now, now, now, now]);
    return rows[0] ? normalize<DeliveryRow>(rows[0]) : undefined;
  }

  async nextDueAt(): Promise<number | undefined> {
    const [row] = await this.db.query(`SELECT MIN(next_attempt_at) AS due FROM ${this.table} WHERE state = 'queued'`);
    return row?.due === null || row?.due === undefined ? undefined : Number(row.due);
  }

  /** Remembers each part the platform took, so a retry resumes after it. */
  async partSent(id: string, partsSent: number, messageIds: string[], now: number): Promise<void> {
    await this.db.query(`UPDATE ${this.table} SET parts_sent = ?, message_ids = ?, updated_at = ? WHERE id = ?`,
      [partsSent, JSON.stringify(messageIds), now, id]);
  }

  // The mark methods match the attempt they were claimed with: a sender that outlived its lease
  // (the delivery was claimed again) cannot overwrite the newer attempt's outcome.
  async markSent(id: string, attempt: number, partsSent: number, messageIds: string[], now: number): Promise<void> {
    await this.db.query(`UPDATE ${this.table} SET state = 'sent', lease_until = NULL, parts_sent = ?, message_ids = ?, sent_at = ?, updated_at = ?, last_error = NULL WHERE id = ? AND state = 'sending' AND attempts = ?`,
      [partsSent, JSON.stringify(messageIds), now, now, id, attempt]);
  }

  async markRetry(id: string, attempt: number, nextAttemptAt: number, error: string, now: number): Promise<void> {
    await this.db.query(`UPDATE ${this.table} SET state = 'queued', lease_until = NULL, failures = failures + 1, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ? AND state = 'sending' AND attempts = ?`,
      [nextAttemptAt, error, now, id, attempt]);
  }

  async markDead(id: string, attempt: number, error: string, now: number): Promise<void> {
    await this.db.query(`UPDATE ${this.table} SET state = 'dead', lease_until = NULL, failures = failures + 1, last_error = ?, updated_at = ? WHERE id = ? AND state = 'sending' AND attempts = ?`,
      [error, now, id, attempt]);
  }

  /** Puts a dead letter back in the queue once: the state check makes a second replay a conflict. */
  async replay(id: string, now: number): Promise<DeliveryRow | 'missing' | 'not-dead'> {
    const rows = await this.db.query(
      `UPDATE ${this.table} SET state = 'queued', attempts = 0, replays = replays + 1, next_attempt_at = ?, updated_at = ? WHERE id = ? AND state = 'dead' RETURNING *`,
      [now, now, id]);
    if (rows[0]) return normalize<DeliveryRow>(rows[0]);
    const exists = await this.db.query(`SELECT id FROM ${this.table} WHERE id = ?`, [id]);
    return exists.length ? 'not-dead' : 'missing';
  }

  async get(id: string): Promise<DeliveryRow | undefined> {
    const [row] = await this.db.query(`SELECT * FROM ${this.table} WHERE id = ?`, [id]);
    return row ? normalize<DeliveryRow>(row) : undefined;
  }

  /**
   * Deliveries by channel and state (`plinth_channels_deliveries`): every state of every channel
   * named or seen, zeros included, so a dashboard's series exist before the first dead letter.
   */
  async counts(channels: Iterable<string>): Promise<Array<{ channel: string; state: DeliveryState; n: number }>> {
    const rows = await this.db.query(`SELECT channel, state, COUNT(*) AS n FROM ${this.table} GROUP BY channel, state`);
    const n = new Map(rows.map(r => [`${r.channel} ${r.state}`, Number(r.n)]));
    const names = new Set([...channels, ...rows.map(r => String(r.channel))]);
    return [...names].flatMap(channel => DELIVERY_STATES.map(state => ({ channel, state, n: n.get(`${channel} ${state}`) ?? 0 })));
  }

  async listDead(limit: number, cursor: number | undefined): Promise<DeliveryRow[]> {
    const rows = cursor === undefined
      ? await this.db.query(`SELECT * FROM ${this.table} WHERE state = 'dead' ORDER BY seq DESC LIMIT ?`, [limit])
      : await this.db.query(`SELECT * FROM ${this.table} WHERE state = 'dead' AND seq < ? ORDER BY seq DESC LIMIT ?`, [cursor, limit]);
    return rows.map(r => normalize<DeliveryRow>(r));
  }

  /** Written behind; the lookup below flushes first. */
  recordPlatformMessages(channel: string, platformIds: string[], deliveryId: string, traceId: string): Promise<void> {
    for (const pid of platformIds) this.platformIds.add([channel, pid, deliveryId, traceId]);
    return Promise.resolve();
  }

  async ofPlatformMessage(channel: string, platformId: string): Promise<{ delivery_id: string; trace_id: string } | undefined> {
    await this.platformIds.flush();
    return (await this.db.query(`SELECT delivery_id, trace_id FROM ${this.platformTable} WHERE channel = ? AND platform_id = ?`, [channel, platformId]))[0];
  }
}
