import { newId, type PluginDatabase } from 'plinth/sdk';
import { nextSeq, normalize, viewDelivery, viewInbound, type ChannelFigures, type DeliveryRow, type InboundRow } from './channel-rows';
import { ChatSessions } from './chat-sessions';
import { DeliveryStore } from './delivery-store';
import { InboundStore } from './inbound-store';
import { PairingStore } from './pairing-store';
import { WriteBehind } from './write-behind';

/**
 * The channels' storage: inbound messages, the delivery queue, chat sessions and pairings are the
 * stores beside this one; here are the trace of each message across them and the per-channel figures.
 */
export class ChannelStore {
  readonly inbound: InboundStore;
  readonly deliveries: DeliveryStore;
  readonly chats: ChatSessions;
  readonly pairings: PairingStore;
  private readonly stagesTable: string;
  private readonly stages: WriteBehind<unknown[]>;

  constructor(private readonly db: PluginDatabase, onWriteError: (err: unknown) => void = () => undefined) {
    this.inbound = new InboundStore(db, onWriteError);
    this.deliveries = new DeliveryStore(db, onWriteError);
    this.chats = new ChatSessions(db);
    this.pairings = new PairingStore(db);
    this.stagesTable = db.table('trace_stages');
    // 8 columns a row: 100 rows stay under SQLite's 999-variable floor.
    this.stages = new WriteBehind(rows => db.query(
      `INSERT INTO ${this.stagesTable} (id, trace_id, subject_id, stage, at, seq, detail, error) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`, rows.flat()).then(() => undefined), onWriteError);
  }

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
    await Promise.all([this.stages.flush(), this.inbound.finishes.flush(), this.deliveries.platformIds.flush()]);
  }

  async trace(traceId: string) {
    await this.flush();
    const inbound = (await this.db.query(`SELECT * FROM ${this.inbound.table} WHERE trace_id = ?`, [traceId])).map(r => normalize<InboundRow>(r));
    const deliveries = (await this.db.query(`SELECT * FROM ${this.deliveries.table} WHERE trace_id = ? ORDER BY seq`, [traceId])).map(r => normalize<DeliveryRow>(r));
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

  async channelFigures() {
    await this.inbound.finishes.flush();
    const inbound = await this.db.query(`SELECT channel, state, COUNT(*) AS n, MAX(received_at) AS last FROM ${this.inbound.table} GROUP BY channel, state`);
    const out = await this.db.query(`SELECT channel, state, COUNT(*) AS n, SUM(failures) AS failures, MAX(sent_at) AS last FROM ${this.deliveries.table} GROUP BY channel, state`);
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
