import { newId } from 'plinth/sdk';
import type { WebSocket } from 'ws';

/** Close codes of the inbox socket; the hook exits on RETIRED and UNKNOWN instead of reconnecting. */
export const CLOSE = { RETIRED: 4410, UNKNOWN: 4404, REPLACED: 4409, BAD_FRAME: 4400 } as const;

export type DeliveryResult = 'injected' | 'accepted' | 'failed' | 'rejected';
export interface Confirmation { result: DeliveryResult; detail?: string; at: number }

interface Connection {
  socket: WebSocket;
  /** Pings sent and not answered yet; two (or more) make the inbox degraded. */
  unanswered: number;
  lastPong: number | null;
  paneAlive: boolean | null;
}

interface PendingDelivery { resolve(c: Confirmation | undefined): void; timer: NodeJS.Timeout | undefined; late(c: Confirmation): void }

/**
 * The inbox sockets of this kernel, one per peer, and the deliveries waiting for their hook's
 * `delivery_ack`. A confirmation that arrives after the caller stopped waiting still reaches
 * `late` (the trace), unlike repowire, whose 0.75 s window dropped acks of its own ~1 s paste.
 */
export class InboxSockets {
  private readonly conns = new Map<string, Connection>();
  private readonly pending = new Map<string, PendingDelivery>();

  constructor(private readonly onDegraded: (peerId: string, missed: number) => void) {}

  attach(peerId: string, socket: WebSocket): void {
    const old = this.conns.get(peerId);
    if (old && old.socket !== socket) old.socket.close(CLOSE.REPLACED, 'replaced by a newer inbox');
    this.conns.set(peerId, { socket, unanswered: 0, lastPong: null, paneAlive: null });
  }

  /** Forgets the socket only if it is still the current one (a replaced socket closing later changes nothing). */
  detach(peerId: string, socket: WebSocket): boolean {
    if (this.conns.get(peerId)?.socket !== socket) return false;
    this.conns.delete(peerId);
    return true;
  }

  connected(peerId: string): boolean { return this.conns.has(peerId); }
  state(peerId: string) { const c = this.conns.get(peerId); return c && { unanswered: c.unanswered, lastPong: c.lastPong, paneAlive: c.paneAlive }; }

  send(peerId: string, frame: Record<string, unknown>): boolean {
    const c = this.conns.get(peerId);
    if (!c || c.socket.readyState !== c.socket.OPEN) return false;
    c.socket.send(JSON.stringify(frame));
    return true;
  }

  close(peerId: string, code: number, reason: string): void {
    const c = this.conns.get(peerId);
    if (c) { this.conns.delete(peerId); c.socket.close(code, reason); }
  }

  /**
   * Sends a frame carrying `delivery_id` and waits up to `windowMs` for the hook's confirmation:
   * undefined when there is no socket or the window passed (then `late` gets it if it comes).
   */
  deliver(peerId: string, frame: Record<string, unknown> & { delivery_id: string }, windowMs: number, late: (c: Confirmation) => void): Promise<Confirmation | undefined> | undefined {
    if (!this.send(peerId, frame)) return undefined;
    return new Promise(resolve => {
      const entry: PendingDelivery = {
        resolve, late,
        timer: setTimeout(() => {
          entry.resolve = () => undefined;
          // Keep listening for a late confirmation for a while, for the trace.
          entry.timer = setTimeout(() => this.pending.delete(frame.delivery_id), 5 * 60_000);
          entry.timer.unref?.();
          resolve(undefined);
        }, windowMs),
      };
      this.pending.set(frame.delivery_id, entry);
    });
  }

  confirm(deliveryId: string, c: Confirmation): boolean {
    const p = this.pending.get(deliveryId);
    if (!p) return false;
    this.pending.delete(deliveryId);
    clearTimeout(p.timer);
    p.late(c);
    p.resolve(c);
    return true;
  }

  pong(peerId: string, paneAlive: boolean | null, now: number): void {
    const c = this.conns.get(peerId);
    if (!c) return;
    c.unanswered = 0;
    c.lastPong = now;
    c.paneAlive = paneAlive;
  }

  /** One ping round: a ping still unanswered from the last round is a strike. */
  pingAll(): void {
    for (const [peerId, c] of this.conns) {
      if (c.unanswered >= 2) this.onDegraded(peerId, c.unanswered);
      c.unanswered++;
      if (c.socket.readyState === c.socket.OPEN) c.socket.send(JSON.stringify({ type: 'ping', nonce: newId('png') }));
    }
  }

  closeAll(): void {
    for (const c of this.conns.values()) c.socket.close(1001, 'kernel stopping');
    this.conns.clear();
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.resolve(undefined); }
    this.pending.clear();
  }
}
