import { randomUUID } from 'node:crypto';
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { Role, taskStateToJSON } from '@a2a-js/sdk';
import { errors } from 'plinth/sdk';
import { errorCodes } from './errors';

export interface Peer { name: string; cardUrl: string; token?: string; source: 'config' | 'hello'; agentName?: string; addedAt: string }

/**
 * Known peer agents: those in the config, and those that introduced themselves through
 * `POST /api/a2a/hello` (kept in memory: a restart forgets them, the config does not).
 */
export class PeerDirectory {
  private readonly peers = new Map<string, Peer>();

  constructor(configured: Record<string, { cardUrl: string; token?: string }>, private readonly timeoutMs: number) {
    for (const [name, p] of Object.entries(configured)) this.peers.set(name, { name, cardUrl: p.cardUrl, token: p.token, source: 'config', addedAt: new Date().toISOString() });
  }

  list(): Array<Omit<Peer, 'token'>> {
    return [...this.peers.values()].map(({ token: _t, ...rest }) => rest);
  }

  /** Fetches the card first, so only a reachable A2A agent is recorded. */
  async hello(input: { name: string; cardUrl: string; token?: string }): Promise<Omit<Peer, 'token'>> {
    const existing = this.peers.get(input.name);
    if (existing?.source === 'config') throw errors.conflict(`peer ${input.name} is defined in the config`);
    const card = await fetchCard(input.cardUrl, Math.min(this.timeoutMs, 10_000));
    const peer: Peer = { name: input.name, cardUrl: input.cardUrl, token: input.token, source: 'hello', agentName: card.name, addedAt: new Date().toISOString() };
    this.peers.set(input.name, peer);
    const { token: _t, ...rest } = peer;
    return rest;
  }

  /** Sends one text message and waits (bounded) for the answer: a message, or a task's final state. */
  async send(peerName: string, text: string, timeoutMs = this.timeoutMs): Promise<{ kind: 'message' | 'task'; text: string; taskId?: string; state?: string }> {
    const peer = this.peers.get(peerName);
    if (!peer) throw errors.notFound(`peer ${peerName}`);
    const signal = AbortSignal.timeout(Math.min(timeoutMs, this.timeoutMs));
    const fetchImpl: typeof fetch = (url, init) => {
      const headers = new Headers(init?.headers);
      if (peer.token) headers.set('authorization', `Bearer ${peer.token}`);
      return fetch(url, { ...init, headers, signal: init?.signal ?? signal });
    };
    const factory = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { transports: [new JsonRpcTransportFactory({ fetchImpl })] }));
    try {
      const client = await factory.createFromUrl(peer.cardUrl, '');
      const result: any = await client.sendMessage({
        message: { messageId: randomUUID(), role: Role.ROLE_USER, parts: [{ content: { $case: 'text', value: text } }] },
      } as any, { signal });
      return describeResult(result);
    } catch (err) {
      if (signal.aborted) throw errorCodes.error('PLINTH_ERR_A2A_TIMEOUT', `peer ${peerName} did not answer within ${timeoutMs} ms`);
      throw errorCodes.error('PLINTH_ERR_A2A_PEER', `peer ${peerName} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}

async function fetchCard(url: string, timeoutMs: number): Promise<{ name: string }> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw errorCodes.error('PLINTH_ERR_A2A_PEER', `could not fetch the agent card at ${url}: ${(err as Error).message}`, { cause: err });
  }
  const card = await res.json().catch(() => undefined) as { name?: unknown; supportedInterfaces?: unknown } | undefined;
  if (!res.ok || !card || typeof card.name !== 'string') {
    throw errorCodes.error('PLINTH_ERR_A2A_PEER', `${url} did not answer an A2A agent card (HTTP ${res.status})`);
  }
  return { name: card.name };
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
