/**
 * Contract of the A2A plugin's client side, for plugins that find peers (local-network discovery).
 */
import { createServiceRef, type User } from 'plinth/sdk';

export interface A2aPeerView { name: string; cardUrl: string; source: 'config' | 'hello'; owner: string | null; agentName?: string; addedAt: string }

export interface A2aPeers {
  /** The same as `POST /api/a2a/hello`: fetches the card through the egress policy, then records the peer as the user's. */
  hello(user: User, input: { name: string; cardUrl: string; token?: string }): Promise<A2aPeerView>;
}

export const a2aPeersRef = createServiceRef<A2aPeers>({ id: 'a2a.peers' });
