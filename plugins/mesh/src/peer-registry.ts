import { hostname } from 'node:os';
import { errors, tmux, type Clock, type Logger, type User } from 'plinth/sdk';
import { errorCodes } from './errors';
import { CLOSE } from './inbox';
import type { InboxRelay } from './inbox-relay';
import { isAddressable, mayTransition, type Inbound, type Lifecycle } from './lifecycle';
import { PeerStore, type PeerRow } from './peer-store';
import { readEvidence, type Binding } from './tmux-evidence';

export interface RegisterInput {
  peer_id?: string; name: string; circle?: string; role?: string; backend: string; cwd?: string; host?: string; binding: Binding;
}

/** Who may act on a peer: its owner or an admin; others get 404 so ids do not leak. */
export function mayAct(user: User, p: PeerRow): boolean { return user.role === 'admin' || p.owner === user.id; }

/**
 * Peers: registration with proof, the lifecycle transitions (refusals recorded as
 * contradictions), the two liveness axes, retirement and reaping.
 */
export class PeerRegistry {
  readonly host = hostname();
  constructor(readonly store: PeerStore, private readonly inbox: InboxRelay, private readonly clock: Clock, private readonly log: Logger,
    private readonly onRetired: (peer: PeerRow) => Promise<void>) {}

  async visible(user: User, id: string): Promise<PeerRow> {
    const p = await this.store.get(id);
    if (!p || !mayAct(user, p)) throw errors.notFound(`peer ${id}`);
    return p;
  }

  /**
   * A hook registers with the evidence of its pane and agent; the kernel checks it on this host.
   * With `peer_id` it re-binds an existing peer (a hook restart), a retired one only with a live agent.
   */
  async register(user: User, input: RegisterInput): Promise<PeerRow> {
    const now = this.clock.now();
    if (input.host && input.host !== this.host) throw errorCodes.error('PLINTH_ERR_MESH_NOT_LOCAL', `peers register on the kernel's host (${this.host})`);
    const ev = await readEvidence(input.binding);
    if (ev.runtime !== 'alive') {
      throw errorCodes.error('PLINTH_ERR_MESH_NO_EVIDENCE', undefined, { details: { agent_alive: ev.agentAlive, pane: ev.pane ? 'present' : ev.pane === null ? 'missing' : 'unknown', pane_reused: ev.paneReused } });
    }
    let peer: PeerRow;
    if (input.peer_id) {
      peer = await this.visible(user, input.peer_id);
      await this.transition(peer, 'online', true);
      await this.store.update(peer.id, { binding: input.binding, runtime: 'alive', evidence_at: now, last_seen: now, retired_at: null, cwd: input.cwd ?? peer.cwd });
    } else {
      const circle = input.circle ?? ev.pane?.session ?? 'default';
      peer = await this.store.insert({ owner: user.id, name: input.name, circle, role: input.role ?? 'agent', backend: input.backend,
        cwd: input.cwd ?? null, host: this.host, binding: input.binding }, now);
      await this.store.record(peer.id, 'registered', { pane: input.binding.pane_id }, now);
    }
    // The pane itself records whose it is: rehook and orphans trust this, not a cwd or a name.
    await tmux(input.binding.socket, ['set-option', '-p', '-t', input.binding.pane_id, '@plinth_peer_id', peer.id]);
    return (await this.store.get(peer.id))!;
  }

  /** Applies a lifecycle change or refuses it, recording the refusal as a contradiction. */
  async transition(p: PeerRow, to: Lifecycle, liveAgentProof = false): Promise<void> {
    if (!mayTransition(p.lifecycle, to, liveAgentProof)) {
      await this.store.record(p.id, 'contradiction', { code: 'ILLEGAL_TRANSITION', from: p.lifecycle, to }, this.clock.now());
      if (p.lifecycle === 'retired') throw errorCodes.error('PLINTH_ERR_MESH_RETIRED', `peer ${p.id} is retired`);
      throw errorCodes.error('PLINTH_ERR_MESH_TRANSITION', `peer ${p.id}: ${p.lifecycle} → ${to} is not allowed`);
    }
    if (p.lifecycle === to) return;
    const set: Partial<PeerRow> = { lifecycle: to, last_seen: this.clock.now() };
    if (to === 'retired') set.retired_at = this.clock.now();
    if (!await this.store.update(p.id, set, p.lifecycle)) {
      const fresh = (await this.store.get(p.id))!;
      return this.transition(fresh, to, liveAgentProof);
    }
    await this.store.record(p.id, 'lifecycle', { from: p.lifecycle, to }, this.clock.now());
    p.lifecycle = to;
  }

  async setInbound(id: string, inbound: Inbound): Promise<void> {
    await this.store.update(id, { inbound, last_seen: this.clock.now() });
  }

  /** The hook connected its inbox: online (from registered or offline), busy if its last turn report said so; inbound connected. */
  async connected(p: PeerRow): Promise<void> {
    await this.transition(p, 'online');
    if (p.turn_state === 'busy') await this.transition(p, 'busy');
    await this.store.update(p.id, { inbound: 'connected', inbox_node: this.inbox.node, last_seen: this.clock.now() });
  }

  /**
   * A turn report from the agent CLI's hooks (a prompt submitted: busy; the turn stopped: idle).
   * The turn is always recorded; the lifecycle follows it only while the peer is online or busy —
   * a registered or offline peer takes it up when its inbox connects, and a retired one refuses it.
   */
  async reportTurn(p: PeerRow, turn: 'busy' | 'idle'): Promise<void> {
    if (p.lifecycle === 'retired') throw errorCodes.error('PLINTH_ERR_MESH_RETIRED', `peer ${p.id} is retired`);
    await this.store.update(p.id, { turn_state: turn, last_seen: this.clock.now() });
    p.turn_state = turn;
    if (p.lifecycle === 'online' || p.lifecycle === 'busy') await this.transition(p, turn === 'busy' ? 'busy' : 'online');
  }

  /**
   * At start no inbox can be connected to this kernel yet, whatever the rows say, and none to a
   * kernel that is not beating: a kernel that stopped (or was killed) could not record its sockets
   * closing. Without this, a peer showed `connected` until its hook came back, and a reply sent
   * meanwhile found no inbox. Inboxes held by other live kernels stay as they are.
   */
  async forgetInboxesAtStart(): Promise<void> {
    for (const p of await this.store.list({})) {
      if (p.inbound !== 'none' && !this.inbox.nodeAlive(p.inbox_node)) await this.disconnected(p.id, p.inbox_node);
    }
  }

  /** The inbox held on `node` went away: offline, unless it is retired or another socket (here or on another kernel) holds it now. */
  async disconnected(id: string, node: string | null): Promise<void> {
    const p = await this.store.get(id);
    if (!p || (p.inbox_node && p.inbox_node !== node)) return;
    await this.store.update(id, { inbound: 'none', inbox_node: null, last_seen: this.clock.now() });
    if (p.lifecycle !== 'retired' && p.lifecycle !== 'offline') await this.transition(p, 'offline').catch(() => undefined);
  }

  async retire(p: PeerRow, reason: string): Promise<void> {
    if (p.lifecycle === 'retired') return;
    await this.transition(p, 'retired');
    await this.store.record(p.id, 'retired', { reason }, this.clock.now());
    this.inbox.close(p, CLOSE.RETIRED, 'retired');
    await this.store.update(p.id, { inbound: 'none' });
    await this.onRetired(p);
  }

  /** A peer that can be reached now, else a 409 (dead peers are never addressable). */
  async addressable(user: User, id: string): Promise<PeerRow> {
    const p = await this.visible(user, id);
    if (!isAddressable(p)) throw errorCodes.error('PLINTH_ERR_MESH_NOT_ADDRESSABLE', `peer ${id} is ${p.lifecycle} (runtime ${p.runtime})`);
    return p;
  }

  /**
   * Liveness sweep: fresh runtime evidence for every peer that is not retired; an addressable peer
   * with no evidence goes offline; an offline one is reaped only after `reapAfterMs` with no evidence
   * (repowire #367 reaped peers whose pane was alive); tombstones go after `tombstoneMs`.
   */
  async sweep(reapAfterMs: number, tombstoneMs: number): Promise<void> {
    const now = this.clock.now();
    for (const p of await this.store.list({ lifecycle: ['registered', 'online', 'busy', 'offline'] })) {
      const ev = await readEvidence(p.binding);
      if (ev.runtime === 'unknown') continue; // inconclusive: no strike
      if (ev.runtime === 'alive') { await this.store.update(p.id, { runtime: 'alive', evidence_at: now }); continue; }
      await this.store.update(p.id, { runtime: 'gone' });
      if (p.lifecycle !== 'offline') { await this.transition(p, 'offline').catch(() => undefined); continue; }
      if (now - (p.evidence_at ?? p.created_ms) >= reapAfterMs) await this.retire(p, 'reaped: no runtime evidence').catch(err => this.log.warn('reaping failed', { peer: p.id, err: String(err) }));
    }
    for (const p of await this.store.list({ lifecycle: ['retired'] })) {
      if (p.retired_at !== null && now - p.retired_at >= tombstoneMs) await this.store.remove(p.id);
    }
  }
}
