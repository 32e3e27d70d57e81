import { iso, newId, type PluginDatabase } from 'plinth/sdk';
import type { InboundMessage } from './contract';
import { WriteBehind } from './write-behind';

export type InboundState = 'received' | 'processing' | 'done' | 'ignored' | 'failed';
export type DeliveryState = 'queued' | 'sending' | 'sent' | 'dead';

export interface InboundRow {
  id: string; channel: string; dedupe_key: string; trace_id: string; kind: InboundMessage['kind'];
  chat_id: string; sender_id: string; sender_name: string | null; message_id: string | null; text: string;
  callback_data: string | null; callback_id: string | null; state: InboundState;
  received_at: number; verified_at: number; updated_at: number; error: string | null;
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
function normalize<T>(row: any): T {
  for (const k of INT) if (row[k] !== null && row[k] !== undefined) row[k] = Number(row[k]);
  if (typeof row.buttons === 'string') row.buttons = JSON.parse(row.buttons);
  if (typeof row.message_ids === 'string') row.message_ids = JSON.parse(row.message_ids);
  return row as T;
}

let seqCounter = 0;
/** Orders rows created within one millisecond; unique enough for keyset pagination with the id as tie-break. */
function nextSeq(now: number): number { seqCounter = (seqCounter + 1) % 1000; return now * 1000 + seqCounter; }

export class ChannelStore {
  private readonly inbound: string;
  private readonly deliveries: string;
  private readonly stagesTable: string;
  private readonly sessions: string;
  private readonly pairings: string;
  private readonly platform: string;
  private readonly stages: WriteBehind<unknown[]>;
  private readonly finishes: WriteBehind<{ id: string; state: InboundState; now: number; error: string | null }>;
  private readonly platformIds: WriteBehind<unknown[]>;
  private readonly sessionCache = new Map<string, { agent: string; session_id: string }>();

  constructor(private readonly db: PluginDatabase, onWriteError: (err: unknown) => void = () => undefined) {
    this.inbound = db.table('inbound');
    this.deliveries = db.table('deliveries');
    this.stagesTable = db.table('trace_stages');
    this.sessions = db.table('sessions');
    this.pairings = db.table('pairings');
    this.platform = db.table('platform_messages');
    // 8 and 4 columns a row: 100 rows stay under SQLite's 999-variable floor.
    this.stages = new WriteBehind(rows => db.query(
      `INSERT INTO ${this.stagesTable} (id, trace_id, subject_id, stage, at, seq, detail, error) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`, rows.flat()).then(() => undefined), onWriteError);
    this.platformIds = new WriteBehind(rows => db.query(
      `INSERT INTO ${this.platform} (channel, platform_id, delivery_id, trace_id) VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')} ON CONFLICT (channel, platform_id) DO NOTHING`, rows.flat()).then(() => undefined), onWriteError);
    this.finishes = new WriteBehind(rows => this.writeFinishes(rows), onWriteError);
  }

  // ------------------------------------------------------------ inbound

  /**
   * One statement for many messages (the webhook path groups concurrent requests), so ingest is
   * not bound by one write per update; the unique key makes the platform's retries a no-op, also
   * within one batch. Returns, per message, its ids or undefined for a duplicate.
   */
  async insertInbound(items: Array<{ channel: string; m: InboundMessage }>, now: number): Promise<Array<{ id: string; traceId: string } | undefined>> {
    const ids = items.map(() => ({ id: newId('inb'), traceId: newId('trc') }));
    const values: unknown[] = [];
    items.forEach(({ channel, m }, i) => values.push(ids[i].id, channel, m.dedupeKey, ids[i].traceId, m.kind, m.chatId, m.senderId, m.senderName ?? null,
      m.messageId ?? null, m.text, m.callbackData ?? null, m.callbackId ?? null, now, now, now));
    const rows = await this.db.query(
      `INSERT INTO ${this.inbound} (id, channel, dedupe_key, trace_id, kind, chat_id, sender_id, sender_name, message_id, text,
        callback_data, callback_id, state, received_at, verified_at, updated_at)
       VALUES ${items.map(() => `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?, ?)`).join(', ')}
       ON CONFLICT (channel, dedupe_key) DO NOTHING RETURNING id`, values);
    const inserted = new Set(rows.map(r => r.id));
    return ids.map(x => (inserted.has(x.id) ? x : undefined));
  }

  /** Takes a message for processing; a lease lets another worker (or kernel) take it over after a crash. */
  async claimInbound(id: string, now: number, leaseMs: number): Promise<InboundRow | undefined> {
    const rows = await this.db.query(
      `UPDATE ${this.inbound} SET state = 'processing', lease_until = ?, updated_at = ?
       WHERE id = ? AND (state = 'received' OR (state = 'processing' AND lease_until < ?)) RETURNING *`,
      [now + leaseMs, now, id, now]);
    return rows[0] ? normalize<InboundRow>(rows[0]) : undefined;
  }

  async pendingInbound(now: number, limit = 1000): Promise<string[]> {
    const rows = await this.db.query(
      `SELECT id FROM ${this.inbound} WHERE state = 'received' OR (state = 'processing' AND lease_until < ?) ORDER BY received_at LIMIT ?`,
      [now, limit]);
    return rows.map(r => r.id);
  }

  /**
   * Written behind, many to a statement. The lease keeps the message from being taken again
   * meanwhile; if the process dies before the write, the message is processed again after the
   * lease, and its reply's dedupe key (`reply:<inbound id>`) keeps the reply from being sent twice.
   */
  finishInbound(id: string, state: InboundState, now: number, error?: string): Promise<void> {
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
      await this.db.query(`UPDATE ${this.inbound} SET state = ?, lease_until = NULL, updated_at = ?, error = ? WHERE id IN (${g.map(() => '?').join(', ')})`,
        [g[0].state, Math.max(...g.map(r => r.now)), g[0].error, ...g.map(r => r.id)]);
    }
  }

  async listInbound(channel: string | undefined, limit: number): Promise<InboundRow[]> {
    await this.finishes.flush();
    const rows = channel
      ? await this.db.query(`SELECT * FROM ${this.inbound} WHERE channel = ? ORDER BY received_at DESC, id LIMIT ?`, [channel, limit])
      : await this.db.query(`SELECT * FROM ${this.inbound} ORDER BY received_at DESC, id LIMIT ?`, [limit]);
    return rows.map(r => normalize<InboundRow>(r));
  }

  // ------------------------------------------------------------ traces

  /**
   * Trace stages are written behind (WriteBehind): recording one costs no statement on the
   * message's path (four stages per answered message were a third of its statements).
   */
  stage(traceId: string, subjectId: string, stage: string, now: number, detail?: unknown, error?: string): Promise<void> {
    this.stages.add([newId('stg'), traceId, subjectId, stage, now, nextSeq(now), detail === undefined ? null : JSON.stringify(detail), error ?? null]);
    return Promise.resolve();
  }

  /** Writes everything written behind (stages, finishes, platform ids); resolves once stored. */
  async flush(): Promise<void> {
    await Promise.all([this.stages.flush(), this.finishes.flush(), this.platformIds.flush()]);
  }

  async trace(traceId: string) {
    await this.flush();
    const inbound = (await this.db.query(`SELECT * FROM ${this.inbound} WHERE trace_id = ?`, [traceId])).map(r => normalize<InboundRow>(r));
    const deliveries = (await this.db.query(`SELECT * FROM ${this.deliveries} WHERE trace_id = ? ORDER BY seq`, [traceId])).map(r => normalize<DeliveryRow>(r));
    if (!inbound.length && !deliveries.length) return undefined;
    const stored = (await this.db.query(`SELECT * FROM ${this.stagesTable} WHERE trace_id = ? ORDER BY seq, id`, [traceId])).map(r => normalize<any>(r));
    // received and verified live on the inbound row: the webhook path writes one row, not three.
    const stages = [
      ...inbound.flatMap(m => [
        { stage: 'received', at: m.received_at, subject: m.id, seq: m.received_at * 1000 - 2 },
        { stage: 'verified', at: m.verified_at, subject: m.id, seq: m.verified_at * 1000 - 1 },
      ]),
      ...stored.map(s => ({ stage: s.stage, at: s.at, subject: s.subject_id, seq: s.seq, ...(s.detail ? { detail: JSON.parse(s.detail) } : {}), ...(s.error ? { error: s.error } : {}) })),
    ].sort((a, b) => a.seq - b.seq).map(({ seq, at, ...rest }) => ({ ...rest, at: new Date(at).toISOString() }));
    const channel = inbound[0]?.channel ?? deliveries[0]?.channel;
    return { id: traceId, channel, inbound: inbound.map(viewInbound), deliveries: deliveries.map(viewDelivery), stages };
  }

  // ------------------------------------------------------------ sessions and pairing

  /**
   * A chat's session changes only when its agent does or the runtime starts a new one, so it is
   * remembered here after the first read: one SELECT fewer per message on a busy channel.
   */
  async sessionFor(channel: string, chatId: string): Promise<{ agent: string; session_id: string } | undefined> {
    const key = `${channel}\u0000${chatId}`;
    const known = this.sessionCache.get(key);
    if (known) return known;
    const row = (await this.db.query(`SELECT agent, session_id FROM ${this.sessions} WHERE channel = ? AND chat_id = ?`, [channel, chatId]))[0];
    if (row) this.remember(key, { agent: row.agent, session_id: row.session_id });
    return row;
  }

  async saveSession(channel: string, chatId: string, agent: string, sessionId: string, now: number): Promise<void> {
    const key = `${channel}\u0000${chatId}`;
    this.sessionCache.delete(key);
    await this.db.query(
      `INSERT INTO ${this.sessions} (channel, chat_id, agent, session_id, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (channel, chat_id) DO UPDATE SET agent = excluded.agent, session_id = excluded.session_id, updated_at = excluded.updated_at`,
      [channel, chatId, agent, sessionId, now]);
    this.remember(key, { agent, session_id: sessionId });
  }

  private remember(key: string, s: { agent: string; session_id: string }): void {
    if (this.sessionCache.size >= 10_000) this.sessionCache.clear();
    this.sessionCache.set(key, s);
  }

  async pairing(channel: string, senderId: string): Promise<{ code: string; state: string } | undefined> {
    return (await this.db.query(`SELECT code, state FROM ${this.pairings} WHERE channel = ? AND sender_id = ?`, [channel, senderId]))[0];
  }

  /** Returns the new code, or undefined when the sender already has one (then nothing is sent again). */
  async createPairing(channel: string, senderId: string, chatId: string, code: string, now: number): Promise<string | undefined> {
    const rows = await this.db.query(
      `INSERT INTO ${this.pairings} (channel, sender_id, chat_id, code, state, created_at) VALUES (?, ?, ?, ?, 'pending', ?)
       ON CONFLICT (channel, sender_id) DO NOTHING RETURNING code`, [channel, senderId, chatId, code, now]);
    return rows[0]?.code;
  }

  async listPairings() {
    const rows = await this.db.query(`SELECT * FROM ${this.pairings} ORDER BY created_at DESC`);
    return rows.map(r => ({ channel: r.channel, senderId: r.sender_id, chatId: r.chat_id, code: r.code, state: r.state,
      createdAt: new Date(Number(r.created_at)).toISOString(), approvedAt: r.approved_at ? new Date(Number(r.approved_at)).toISOString() : null }));
  }

  async approvePairing(code: string, now: number) {
    const rows = await this.db.query(`UPDATE ${this.pairings} SET state = 'approved', approved_at = ? WHERE code = ? AND state = 'pending' RETURNING *`, [now, code]);
    return rows[0] as { channel: string; sender_id: string; chat_id: string } | undefined;
  }

  async pairingByCode(code: string) {
    return (await this.db.query(`SELECT * FROM ${this.pairings} WHERE code = ?`, [code]))[0];
  }

  // ------------------------------------------------------------ deliveries

  /** Undefined when a delivery with the same dedupe key exists (an approval prompt pushed twice). */
  async enqueueDelivery(d: NewDelivery, now: number): Promise<string | undefined> {
    const id = newId('dlv');
    const rows = await this.db.query(
      `INSERT INTO ${this.deliveries} (id, seq, channel, chat_id, text, reply_to, buttons, dedupe_key, trace_id, state, next_attempt_at, created_at, updated_at)
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
  async claimDelivery(channels: string[], now: number, leaseMs: number): Promise<DeliveryRow | undefined> {
    if (!channels.length) return undefined;
    const t = this.deliveries;
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
    const [row] = await this.db.query(`SELECT MIN(next_attempt_at) AS due FROM ${this.deliveries} WHERE state = 'queued'`);
    return row?.due === null || row?.due === undefined ? undefined : Number(row.due);
  }

  /** Remembers each part the platform took, so a retry resumes after it. */
  async partSent(id: string, partsSent: number, messageIds: string[], now: number): Promise<void> {
    await this.db.query(`UPDATE ${this.deliveries} SET parts_sent = ?, message_ids = ?, updated_at = ? WHERE id = ?`,
      [partsSent, JSON.stringify(messageIds), now, id]);
  }

  // The mark methods match the attempt they were claimed with: a sender that outlived its lease
  // (the delivery was claimed again) cannot overwrite the newer attempt's outcome.
  async markSent(id: string, attempt: number, partsSent: number, messageIds: string[], now: number): Promise<void> {
    await this.db.query(`UPDATE ${this.deliveries} SET state = 'sent', lease_until = NULL, parts_sent = ?, message_ids = ?, sent_at = ?, updated_at = ?, last_error = NULL WHERE id = ? AND state = 'sending' AND attempts = ?`,
      [partsSent, JSON.stringify(messageIds), now, now, id, attempt]);
  }

  async markRetry(id: string, attempt: number, nextAttemptAt: number, error: string, now: number): Promise<void> {
    await this.db.query(`UPDATE ${this.deliveries} SET state = 'queued', lease_until = NULL, failures = failures + 1, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ? AND state = 'sending' AND attempts = ?`,
      [nextAttemptAt, error, now, id, attempt]);
  }

  async markDead(id: string, attempt: number, error: string, now: number): Promise<void> {
    await this.db.query(`UPDATE ${this.deliveries} SET state = 'dead', lease_until = NULL, failures = failures + 1, last_error = ?, updated_at = ? WHERE id = ? AND state = 'sending' AND attempts = ?`,
      [error, now, id, attempt]);
  }

  /** Puts a dead letter back in the queue once: the state check makes a second replay a conflict. */
  async replay(id: string, now: number): Promise<DeliveryRow | 'missing' | 'not-dead'> {
    const rows = await this.db.query(
      `UPDATE ${this.deliveries} SET state = 'queued', attempts = 0, replays = replays + 1, next_attempt_at = ?, updated_at = ? WHERE id = ? AND state = 'dead' RETURNING *`,
      [now, now, id]);
    if (rows[0]) return normalize<DeliveryRow>(rows[0]);
    const exists = await this.db.query(`SELECT id FROM ${this.deliveries} WHERE id = ?`, [id]);
    return exists.length ? 'not-dead' : 'missing';
  }

  async getDelivery(id: string): Promise<DeliveryRow | undefined> {
    const [row] = await this.db.query(`SELECT * FROM ${this.deliveries} WHERE id = ?`, [id]);
    return row ? normalize<DeliveryRow>(row) : undefined;
  }

  async listDead(limit: number, cursor: number | undefined): Promise<DeliveryRow[]> {
    const rows = cursor === undefined
      ? await this.db.query(`SELECT * FROM ${this.deliveries} WHERE state = 'dead' ORDER BY seq DESC LIMIT ?`, [limit])
      : await this.db.query(`SELECT * FROM ${this.deliveries} WHERE state = 'dead' AND seq < ? ORDER BY seq DESC LIMIT ?`, [cursor, limit]);
    return rows.map(r => normalize<DeliveryRow>(r));
  }

  /** Written behind; the lookup below flushes first. */
  recordPlatformMessages(channel: string, platformIds: string[], deliveryId: string, traceId: string): Promise<void> {
    for (const pid of platformIds) this.platformIds.add([channel, pid, deliveryId, traceId]);
    return Promise.resolve();
  }

  async deliveryOfPlatformMessage(channel: string, platformId: string): Promise<{ delivery_id: string; trace_id: string } | undefined> {
    await this.platformIds.flush();
    return (await this.db.query(`SELECT delivery_id, trace_id FROM ${this.platform} WHERE channel = ? AND platform_id = ?`, [channel, platformId]))[0];
  }

  // ------------------------------------------------------------ status

  async channelFigures() {
    await this.finishes.flush();
    const inbound = await this.db.query(`SELECT channel, state, COUNT(*) AS n, MAX(received_at) AS last FROM ${this.inbound} GROUP BY channel, state`);
    const out = await this.db.query(`SELECT channel, state, COUNT(*) AS n, SUM(failures) AS failures, MAX(sent_at) AS last FROM ${this.deliveries} GROUP BY channel, state`);
    const figures = new Map<string, ChannelFigures>();
    const get = (c: string) => {
      let f = figures.get(c);
      if (!f) figures.set(c, f = { lastInboundAt: null, lastOutboundAt: null, inbound: {}, deliveries: {}, failures: 0 });
      return f;
    };
    for (const r of inbound) {
      const f = get(r.channel);
      f.inbound[r.state] = Number(r.n);
      if (r.last !== null && Number(r.last) > (f.lastInboundAt ?? 0)) f.lastInboundAt = Number(r.last);
    }
    for (const r of out) {
      const f = get(r.channel);
      f.deliveries[r.state] = Number(r.n);
      f.failures += Number(r.failures ?? 0);
      if (r.last !== null && Number(r.last) > (f.lastOutboundAt ?? 0)) f.lastOutboundAt = Number(r.last);
    }
    return figures;
  }
}

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
