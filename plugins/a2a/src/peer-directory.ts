import { randomUUID } from 'node:crypto';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { Role, taskStateToJSON } from '@a2a-js/sdk';
import { egressErrorIn, errors, iso, type Clock, type EgressService, type User } from 'plinth/sdk';
import { errorCodes } from './errors';

export interface Peer { name: string; cardUrl: string; token?: string; source: 'config' | 'hello'; owner: string | null; agentName?: string; addedAt: string }
type PeerView = Omit<Peer, 'token'>;

const MAX_PEERS_PER_USER = 200;

/**
 * Known peer agents: those in the config (shared by every user, read-only), and those a user
 * introduced through `POST /api/a2a/hello` (that user's own: another user's peer of the same name
 * is a different peer and is never listed to others). Kept in memory: a restart forgets them, the
 * config does not. Every request to a peer goes through the kernel's egress policy.
 */
export class PeerDirectory {
  private readonly configured = new Map<string, Peer>();
  /** By owner id, then name. */
  private readonly owned = new Map<string, Map<string, Peer>>();

  constructor(configured: Record<string, { cardUrl: string; token?: string } | undefined>, private readonly timeoutMs: number, private readonly egress: EgressService, private readonly clock: Clock) {
    for (const [name, p] of Object.entries(configured)) if (p) this.configured.set(name, { name, cardUrl: p.cardUrl, token: p.token, source: 'config', owner: null, addedAt: iso(clock.now()) });
  }

  /** The config's peers and the caller's own; an admin sees every user's. */
  list(user: User): PeerView[] {
    const own = user.role === 'admin' ? [...this.owned.values()].flatMap(m => [...m.values()]) : [...(this.owned.get(user.id)?.values() ?? [])];
    return [...this.configured.values(), ...own].map(({ token: _t, ...rest }) => rest);
  }

  /** Fetches the card first (through the egress policy), so only a reachable A2A agent is recorded. */
  async hello(user: User, input: { name: string; cardUrl: string; token?: string }): Promise<PeerView> {
    if (this.configured.has(input.name)) throw errors.conflict(`peer ${input.name} is defined in the config`);
    const mine = this.owned.get(user.id) ?? new Map<string, Peer>();
    if (!mine.has(input.name) && mine.size >= MAX_PEERS_PER_USER) {
      throw errorCodes.error('PLINTH_ERR_TOO_MANY_PEERS', `at most ${MAX_PEERS_PER_USER} peers per user; remove one first`);
    }
    const card = await this.fetchCard(input.cardUrl, Math.min(this.timeoutMs, 10_000));
    const peer: Peer = { name: input.name, cardUrl: input.cardUrl, token: input.token, source: 'hello', owner: user.id, agentName: card.name, addedAt: iso(this.clock.now()) };
    mine.set(input.name, peer);
    this.owned.set(user.id, mine);
    const { token: _t, ...rest } = peer;
    return rest;
  }

  /** The peer `name` as `user` sees it: the config's, else the user's own. */
  private find(user: User, name: string): Peer {
    const peer = this.configured.get(name) ?? this.owned.get(user.id)?.get(name);
    if (!peer) throw errors.notFound(`peer ${name}`);
    return peer;
  }

  /** Sends one text message and waits (bounded) for the answer: a message, or a task's final state. */
  async send(user: User, peerName: string, text: string, timeoutMs = this.timeoutMs): Promise<{ kind: 'message' | 'task'; text: string; taskId?: string; state?: string }> {
    const peer = this.find(user, peerName);
    const signal = AbortSignal.timeout(Math.min(timeoutMs, this.timeoutMs));
    const egressFetch = this.egress.fetcher({ timeoutMs: Math.min(timeoutMs, this.timeoutMs), idleTimeoutMs: 0 });
    const fetchImpl: typeof fetch = (url, init) => {
      const headers = new Headers(init?.headers);
      if (peer.token) headers.set('authorization', `Bearer ${peer.token}`);
      return egressFetch(url, { ...init, headers, signal: init?.signal ?? signal });
    };
    const factory = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl })],
      cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
    }));
    try {
      const client = await factory.createFromUrl(peer.cardUrl, '');
      const result: any = await client.sendMessage({
        message: { messageId: randomUUID(), role: Role.ROLE_USER, parts: [{ content: { $case: 'text', value: text } }] },
      } as any, { signal });
      return describeResult(result);
    } catch (err) {
      const egress = egressErrorIn(err);
      if (egress) throw egress;
      if (signal.aborted) throw errorCodes.error('PLINTH_ERR_A2A_TIMEOUT', `peer ${peerName} did not answer within ${timeoutMs} ms`);
      throw errorCodes.error('PLINTH_ERR_A2A_PEER', `peer ${peerName} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  private async fetchCard(url: string, timeoutMs: number): Promise<{ name: string }> {
    // Egress errors (refused, could not reach) pass as they are: the same text for an open and a closed port.
    const res = await this.egress.fetch(url, { timeoutMs, maxBytes: 1024 * 1024, headers: { accept: 'application/json' } });
    const card = await res.json().catch(err => { if (egressErrorIn(err)) throw egressErrorIn(err); return undefined; }) as { name?: unknown } | undefined;
    if (!res.ok || !card || typeof card.name !== 'string') {
      throw errorCodes.error('PLINTH_ERR_A2A_PEER', `${url} did not answer an A2A agent card`);
    }
    return { name: card.name };
  }
}

function partsText(parts: any[] | undefined): string {
  return (parts ?? []).map(p => (p?.content?.$case === 'text' ? p.content.value : '')).filter(Boolean).join('');
}

function describeResult(result: any): { kind: 'message' | 'task'; text: string; taskId?: string; state?: string } {
  // The client answers a Message or a Task (ts-proto shapes, tagged by the SDK's `$case` when wrapped).
  const value = result?.payload?.value ?? result;
  if (value?.status !== undefined && value?.id) {
    const text = partsText(value.status?.message?.parts) || (value.artifacts ?? []).map((a: any) => partsText(a.parts)).join('');
    return { kind: 'task', text, taskId: value.id, state: taskStateToJSON(value.status?.state) };
  }
  return { kind: 'message', text: partsText(value?.parts) };
}
