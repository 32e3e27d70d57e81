import { newId, type Clock, type Disposer, type EventBus, type Logger, type PluginDatabase } from 'plinth/sdk';
import type { Confirmation, InboxSockets } from './inbox';
import type { PeerRow } from './peer-store';

const RELAY = 'mesh.relay';
const RELAYED = 'mesh.relayed';
const publishing = { audience: 'internal', persist: false } as const;

interface Waiting { resolve(c: Confirmation | 'no_connection' | undefined): void; late(c: Confirmation): void; timer?: NodeJS.Timeout }
interface RelayMessage { node: string; peer_id: string; frame: Record<string, unknown> & { delivery_id: string }; window_ms: number }
interface RelayClose { node: string; peer_id: string; close: { code: number; reason: string } }
interface RelayedMessage { delivery_id: string; confirmation?: Confirmation; no_connection?: boolean }

/**
 * Inboxes across kernels on one database. A hook holds its inbox on one kernel, recorded on the
 * peer as `inbox_node`; a delivery made on another kernel crosses the event bus (LISTEN/NOTIFY
 * between kernels) to the kernel holding the socket, and each confirmation comes back the same
 * way (late ones too, for the trace). Kernels beat in `mesh_nodes`, so a peer row naming a kernel
 * that stopped or died is not taken for a connected inbox.
 */
export class InboxRelay {
  readonly node = newId('mnode');
  private readonly live = new Set<string>();
  private readonly waiting = new Map<string, Waiting>();
  private readonly nodes: string;

  constructor(private readonly db: PluginDatabase, private readonly inbox: InboxSockets, private readonly bus: EventBus,
    private readonly clock: Clock, private readonly log: Logger, private readonly staleMs: number) {
    this.nodes = db.table('mesh_nodes');
  }

  /** This kernel's heartbeat, and which kernels beat recently (read here so `connected` stays synchronous). */
  async beat(): Promise<void> {
    const now = this.clock.now();
    const updated = await this.db.query(`UPDATE ${this.nodes} SET beat_ms = ? WHERE id = ? RETURNING id`, [now, this.node]);
    if (!updated.length) await this.db.query(`INSERT INTO ${this.nodes} (id, beat_ms) VALUES (?, ?)`, [this.node, now]);
    const alive = await this.db.query(`SELECT id FROM ${this.nodes} WHERE beat_ms > ?`, [now - this.staleMs]);
    this.live.clear();
    for (const r of alive) this.live.add(String(r.id));
    await this.db.query(`DELETE FROM ${this.nodes} WHERE beat_ms <= ?`, [now - 10 * this.staleMs]);
  }

  /** A kernel that stops says so at once, rather than looking alive until its beat is stale. */
  async leave(): Promise<void> {
    await this.db.query(`DELETE FROM ${this.nodes} WHERE id = ?`, [this.node]);
  }

  nodeAlive(node: string | null): boolean { return !!node && this.live.has(node); }

  /** Whether a delivery can be tried now: the peer's socket is here, or on a kernel that is alive. */
  connected(p: PeerRow): boolean {
    if (this.inbox.connected(p.id)) return true;
    return p.inbox_node !== this.node && p.inbound !== 'none' && this.nodeAlive(p.inbox_node);
  }

  /** As `InboxSockets.deliver`, wherever the socket is; `no_connection` when it is nowhere. */
  deliver(p: PeerRow, frame: RelayMessage['frame'], windowMs: number, late: (c: Confirmation) => void): Promise<Confirmation | 'no_connection' | undefined> {
    const here = this.inbox.deliver(p.id, frame, windowMs, late);
    if (here) return here;
    if (!this.connected(p)) return Promise.resolve('no_connection');
    return new Promise(resolve => {
      const id = frame.delivery_id;
      const entry: Waiting = { resolve, late };
      // The window here includes the trip to the other kernel and back.
      entry.timer = setTimeout(() => {
        entry.resolve = () => undefined;
        entry.timer = setTimeout(() => this.waiting.delete(id), 5 * 60_000);
        entry.timer.unref?.();
        resolve(undefined);
      }, windowMs + 2000);
      this.waiting.set(id, entry);
      const message: RelayMessage = { node: p.inbox_node!, peer_id: p.id, frame, window_ms: windowMs };
      this.bus.publish(RELAY, message, publishing).catch(err => {
        this.log.warn('relaying a delivery to another kernel failed', { peer: p.id, err: String(err) });
        clearTimeout(entry.timer);
        this.waiting.delete(id);
        resolve('no_connection');
      });
    });
  }

  /** Closes the peer's socket wherever it is (a retired peer's hook must hear it on the kernel it is connected to). */
  close(p: PeerRow, code: number, reason: string): void {
    if (this.inbox.connected(p.id)) return this.inbox.close(p.id, code, reason);
    if (p.inbox_node && p.inbox_node !== this.node) {
      const message: RelayClose = { node: p.inbox_node, peer_id: p.id, close: { code, reason } };
      void this.bus.publish(RELAY, message, publishing).catch(err => this.log.warn('relaying a close to another kernel failed', { peer: p.id, err: String(err) }));
    }
  }

  start(): Disposer {
    const answer = (m: RelayedMessage) => void this.bus.publish(RELAYED, m, publishing).catch(err => this.log.warn('answering a relayed delivery failed', { err: String(err) }));
    const offRelay = this.bus.subscribe<RelayMessage | RelayClose>(RELAY, e => {
      const m = e.payload;
      if (m.node !== this.node) return;
      if ('close' in m) return this.inbox.close(m.peer_id, m.close.code, m.close.reason);
      const id = m.frame.delivery_id;
      if (!this.inbox.deliver(m.peer_id, m.frame, m.window_ms, c => answer({ delivery_id: id, confirmation: c }))) answer({ delivery_id: id, no_connection: true });
    });
    const offRelayed = this.bus.subscribe<RelayedMessage>(RELAYED, e => {
      const m = e.payload;
      const w = this.waiting.get(m.delivery_id);
      if (!w) return;
      this.waiting.delete(m.delivery_id);
      clearTimeout(w.timer);
      if (m.no_connection || !m.confirmation) return w.resolve('no_connection');
      w.late(m.confirmation);
      w.resolve(m.confirmation);
    });
    return () => {
      offRelay();
      offRelayed();
      for (const w of this.waiting.values()) { clearTimeout(w.timer); w.resolve(undefined); }
      this.waiting.clear();
    };
  }
}
