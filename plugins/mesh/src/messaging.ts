import { errors, newId, type Clock, type Logger, type User } from 'plinth/sdk';
import { AskStore, viewAsk, type AskRow } from './ask-store';
import { errorCodes } from './errors';
import type { Confirmation } from './inbox';
import type { InboxRelay } from './inbox-relay';
import type { PeerRow } from './peer-store';
import type { PeerRegistry } from './peer-registry';

export interface MessagingSettings { confirmMs: number; askTtlMs: number; queueTtlMs: number; queueCap: number; waitMaxMs: number }

const who = (p: PeerRow) => ({ id: p.id, name: p.name, circle: p.circle });

/**
 * Asks, acks, notifies and broadcasts. Asks are rows (they survive a restart, unlike repowire's
 * in-memory ones); every delivery is traced; notifies to a peer without inbox are queued durably.
 */
export class MeshMessaging {
  private readonly waiters = new Map<string, Set<() => void>>();
  constructor(readonly asks: AskStore, private readonly peers: PeerRegistry, private readonly inbox: InboxRelay,
    private readonly clock: Clock, private readonly log: Logger, private readonly s: MessagingSettings) {}

  private stage(trace: string, subject: string, owner: string, stage: string, detail?: unknown, error?: string) {
    return this.asks.stage(trace, subject, owner, stage, this.clock.now(), detail, error);
  }

  /** Sends a frame to a peer's inbox and waits for its hook; every step lands in the trace, late ones too. */
  private async push(to: PeerRow, trace: string, frame: Record<string, unknown>): Promise<Confirmation | 'no_connection' | 'unconfirmed'> {
    const delivery_id = newId('dlv');
    const late = (c: Confirmation) => {
      void this.stage(trace, delivery_id, to.owner, 'hook_received', { at: c.at })
        .then(() => this.stage(trace, delivery_id, to.owner, c.result === 'failed' || c.result === 'rejected' ? 'injection_failed' : c.result, c.detail ? { detail: c.detail } : undefined))
        .catch(err => this.log.warn('trace write failed', { err: String(err) }));
    };
    if (!this.inbox.connected(to)) {
      await this.stage(trace, delivery_id, to.owner, 'no_connection', { to: to.id });
      return 'no_connection';
    }
    const waiting = this.inbox.deliver(to, { ...frame, delivery_id }, this.s.confirmMs, late);
    await this.stage(trace, delivery_id, to.owner, 'sent', { to: to.id, delivery_id, via: to.inbox_node && to.inbox_node !== this.inbox.node ? 'another kernel' : 'this kernel' });
    const r = await waiting;
    if (r === 'no_connection') await this.stage(trace, delivery_id, to.owner, 'no_connection', { to: to.id });
    return r ?? 'unconfirmed';
  }

  async ask(user: User, input: { from: string; to: string; text: string; reply_to?: string; question?: unknown; ttl_ms?: number }) {
    const from = await this.peers.visible(user, input.from);
    const to = await this.resolveTarget(user, from, input.to);
    const now = this.clock.now();
    const ask = await this.asks.insertAsk({ owner: from.owner, from: from.id, to: to.id, text: input.text, replyTo: input.reply_to, question: input.question, expiresAt: now + (input.ttl_ms ?? this.s.askTtlMs) }, now);
    await this.stage(ask.id, ask.id, from.owner, 'created', { from: from.id, to: to.id });
    await this.stage(ask.id, ask.id, from.owner, 'resolved', { to: to.id, name: to.name });
    if (input.reply_to) await this.closeByReply(user, from, input.reply_to, input.text);
    await this.stage(ask.id, ask.id, from.owner, 'routed', { via: 'inbox' });
    const r = await this.push(to, ask.id, { type: 'ask', correlation_id: ask.id, from: who(from), to: who(to), text: input.text, question: input.question ?? null });
    if (r === 'no_connection' || (r !== 'unconfirmed' && (r.result === 'failed' || r.result === 'rejected'))) {
      await this.asks.closeAsk(ask.id, 'send_failed', this.clock.now());
      await this.stage(ask.id, ask.id, from.owner, 'closed', { reason: 'send_failed' });
      if (r === 'no_connection') throw errorCodes.error('PLINTH_ERR_MESH_UNREACHABLE', `peer ${to.id} has no inbox`, { details: { correlation_id: ask.id } });
      throw errorCodes.error('PLINTH_ERR_MESH_INJECTION_FAILED', r.detail ?? 'injection failed', { details: { correlation_id: ask.id } });
    }
    return { correlation_id: ask.id, delivery: r === 'unconfirmed' ? 'unconfirmed' : r.result, expires: viewAsk(ask).expires };
  }

  /** `reply_to`: an ask from the peer it answers closes the ask it answers. */
  private async closeByReply(user: User, from: PeerRow, cid: string, text: string) {
    const prior = await this.asks.getAsk(cid);
    if (!prior || prior.to_peer !== from.id) throw errors.notFound(`ask ${cid}`);
    const closed = await this.asks.closeAsk(cid, 'reply_to', this.clock.now(), { text, via: 'push' });
    if (closed) { await this.stage(cid, cid, prior.owner, 'closed', { reason: 'reply_to' }); this.wake(cid); }
  }

  private async resolveTarget(user: User, from: PeerRow, to: string): Promise<PeerRow> {
    const byName = to.startsWith('peer_') ? undefined : await this.peers.store.byName(from.owner, from.circle, to);
    return this.peers.addressable(user, byName?.id ?? to);
  }

  private async visibleAsk(user: User, cid: string): Promise<AskRow> {
    const a = await this.asks.getAsk(cid);
    if (!a || (user.role !== 'admin' && a.owner !== user.id)) throw errors.notFound(`ask ${cid}`);
    return a;
  }

  /**
   * A bare ack closes the ask (idempotent). With a message, the reply reaches the asker first —
   * pushed into its inbox, or handed to its waiting `wait` — and only then does the ask close;
   * an unreachable asker leaves it open (503).
   */
  async ack(user: User, cid: string, message?: string) {
    const a = await this.visibleAsk(user, cid);
    if (a.state === 'closed') {
      if (!message && (a.close_reason === 'ack')) return viewAsk(a);
      throw errorCodes.error('PLINTH_ERR_MESH_ASK_CLOSED', `ask ${cid} is closed (${a.close_reason})`);
    }
    await this.stage(cid, cid, a.owner, 'acked', { message: !!message });
    let closed: AskRow | undefined;
    if (!message) closed = await this.asks.closeAsk(cid, 'ack', this.clock.now());
    else {
      const via = await this.deliverReply(a, message);
      if (!via) throw errorCodes.error('PLINTH_ERR_MESH_UNREACHABLE', `the asker ${a.from_peer} is unreachable; the ask stays open`, { details: { correlation_id: cid } });
      closed = await this.asks.closeAsk(cid, 'ack_with_message', this.clock.now(), { text: message, via });
    }
    if (!closed) throw errorCodes.error('PLINTH_ERR_MESH_ASK_CLOSED', `ask ${cid} closed meanwhile`);
    await this.stage(cid, cid, a.owner, 'closed', { reason: closed.close_reason, via: closed.reply_via });
    this.wake(cid);
    return viewAsk(closed);
  }

  /** Into the asker's pane when its inbox confirms; else to the asker waiting on the ask (pull). */
  private async deliverReply(a: AskRow, message: string): Promise<'push' | 'pull' | undefined> {
    const asker = await this.peers.store.get(a.from_peer);
    const recipient = await this.peers.store.get(a.to_peer);
    if (asker && recipient && this.inbox.connected(asker)) {
      const r = await this.push(asker, a.id, { type: 'notify', kind: 'reply', correlation_id: a.id, from: who(recipient), to: who(asker), text: message });
      if (r !== 'no_connection' && r !== 'unconfirmed' && (r.result === 'injected' || r.result === 'accepted')) return 'push';
    }
    return this.waiters.get(a.id)?.size ? 'pull' : undefined;
  }

  async decline(user: User, cid: string, reason?: string) {
    const a = await this.visibleAsk(user, cid);
    const closed = await this.asks.closeAsk(cid, 'declined', this.clock.now(), reason ? { text: reason, via: 'push' } : undefined);
    if (!closed) throw errorCodes.error('PLINTH_ERR_MESH_ASK_CLOSED', `ask ${cid} is closed (${a.close_reason})`);
    await this.stage(cid, cid, a.owner, 'closed', { reason: 'declined' });
    this.wake(cid);
    await this.tellAsker(closed, `declined${reason ? ': ' + reason : ''}`);
    return viewAsk(closed);
  }

  /** Pull mode: blocks until the ask closes or `ms` pass; the reply stays on the ask. */
  async wait(user: User, cid: string, ms: number, signal?: AbortSignal) {
    let a = await this.visibleAsk(user, cid);
    if (a.state === 'open') {
      await new Promise<void>(resolve => {
        const set = this.waiters.get(cid) ?? new Set();
        this.waiters.set(cid, set);
        const done = () => { clearTimeout(timer); set.delete(done); if (!set.size) this.waiters.delete(cid); resolve(); };
        const timer = setTimeout(done, Math.min(ms, this.s.waitMaxMs));
        signal?.addEventListener('abort', done, { once: true });
        set.add(done);
      });
      a = (await this.asks.getAsk(cid))!;
    }
    return viewAsk(a);
  }

  private wake(cid: string) { for (const w of [...(this.waiters.get(cid) ?? [])]) w(); }

  /** Tells an asker how its ask ended (expired, declined, recipient retired): pushed or queued. */
  private async tellAsker(a: AskRow, text: string) {
    const asker = await this.peers.store.get(a.from_peer);
    if (!asker || asker.lifecycle === 'retired') return;
    await this.notifyRow(asker, undefined, `ask ${a.id} ${text}`, { kind: 'ask_closed', correlation_id: a.id }).catch(err => this.log.warn('telling the asker failed', { err: String(err) }));
  }

  async notify(user: User, input: { from?: string; to: string; text: string }) {
    const from = input.from ? await this.peers.visible(user, input.from) : undefined;
    const to = from ? await this.resolveAny(user, from, input.to) : await this.peers.visible(user, input.to);
    if (to.lifecycle === 'retired') throw errorCodes.error('PLINTH_ERR_MESH_RETIRED', `peer ${to.id} is retired`);
    return this.notifyRow(to, from, input.text, { kind: 'notice' });
  }

  private async resolveAny(user: User, from: PeerRow, to: string) {
    const byName = to.startsWith('peer_') ? undefined : await this.peers.store.byName(from.owner, from.circle, to);
    return this.peers.visible(user, byName?.id ?? to);
  }

  /** Delivered now when the inbox confirms, else queued (TTL, cap per peer) and replayed on reconnect. */
  private async notifyRow(to: PeerRow, from: PeerRow | undefined, text: string, extra: Record<string, unknown>) {
    const trace = newId('trc');
    await this.stage(trace, trace, to.owner, 'created', { to: to.id, from: from?.id ?? null });
    const frame = { type: 'notify', from: from ? who(from) : { id: 'plinth', name: 'plinth' }, to: who(to), text, ...extra };
    if (this.inbox.connected(to)) {
      const r = await this.push(to, trace, frame);
      if (r !== 'no_connection' && r !== 'unconfirmed' && (r.result === 'injected' || r.result === 'accepted')) return { delivery_id: trace, status: 'delivered', via: r.result };
    }
    if (await this.asks.countQueued(to.id) >= this.s.queueCap) {
      await this.stage(trace, trace, to.owner, 'closed', { reason: 'queue_full' }, 'queue full');
      throw errorCodes.error('PLINTH_ERR_MESH_QUEUE_FULL', `peer ${to.id} has ${this.s.queueCap} queued notifies`, { details: { delivery_id: trace } });
    }
    const now = this.clock.now();
    await this.asks.enqueue({ id: trace, to: to.id, frame, traceId: trace, expiresAt: now + this.s.queueTtlMs }, now);
    await this.stage(trace, trace, to.owner, 'queued', { reason: this.inbox.connected(to) ? 'unconfirmed' : 'no_inbox' });
    return { delivery_id: trace, status: 'queued', reason: this.inbox.connected(to) ? 'the inbox did not confirm' : 'the peer has no inbox' };
  }

  /** Replays queued notifies in order when an inbox connects; each is taken once. */
  async flushQueued(peer: PeerRow) {
    for (const q of await this.asks.queuedFor(peer.id, this.clock.now())) {
      if (!await this.asks.take(q.id)) continue;
      const r = await this.push(peer, q.trace_id, q.frame);
      if (r === 'no_connection' || r === 'unconfirmed' || !(r.result === 'injected' || r.result === 'accepted')) {
        await this.asks.enqueue({ id: q.id, to: q.to_peer, frame: q.frame, traceId: q.trace_id, expiresAt: q.expires_at }, q.created_ms);
        return;
      }
    }
  }

  async broadcast(user: User, input: { from: string; text: string }) {
    const from = await this.peers.visible(user, input.from);
    const targets = (await this.peers.store.list({ owner: from.owner, circle: from.circle, lifecycle: ['online', 'busy'] })).filter(p => p.id !== from.id && this.inbox.connected(p));
    const results = await Promise.all(targets.map(async to => {
      const trace = newId('trc');
      await this.stage(trace, trace, to.owner, 'created', { to: to.id, from: from.id, broadcast: true });
      const r = await this.push(to, trace, { type: 'broadcast', from: who(from), to: who(to), text: input.text });
      return { peer_id: to.id, delivery_id: trace, status: typeof r === 'string' ? r : r.result };
    }));
    return { items: results };
  }

  /** Expiry: asks and queued notifies past their time; the asker is told. */
  async sweep() {
    const now = this.clock.now();
    for (const a of await this.asks.expiredAsks(now)) {
      const closed = await this.asks.closeAsk(a.id, 'expired', now);
      if (!closed) continue;
      await this.stage(a.id, a.id, a.owner, 'expired');
      this.wake(a.id);
      await this.tellAsker(closed, 'expired');
    }
    for (const q of await this.asks.expireQueued(now)) await this.asks.stage(q.trace_id, q.id, (await this.peers.store.get(q.to_peer))?.owner ?? '', 'expired', now);
  }

  /** A recipient that retires closes its inbound asks and tells each asker. */
  async recipientRetired(p: PeerRow) {
    for (const a of await this.asks.pending({ peer: p.id, direction: 'inbound' })) {
      const closed = await this.asks.closeAsk(a.id, 'recipient_retired', this.clock.now());
      if (!closed) continue;
      await this.stage(a.id, a.id, a.owner, 'closed', { reason: 'recipient_retired' });
      this.wake(a.id);
      await this.tellAsker(closed, 'closed: the recipient retired');
    }
  }
}
