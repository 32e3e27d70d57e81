/**
 * The peer lifecycle as an explicit state machine: registered → online ⇄ busy → offline →
 * retired; offline → online on reconnect; retired → online only with proof of a live agent.
 * Anything else is refused, and the caller records the refusal as a contradiction (repowire
 * let any state follow any other, so a stale hook resurrected retired peers).
 */
export type Lifecycle = 'registered' | 'online' | 'busy' | 'offline' | 'retired';
export type Runtime = 'alive' | 'gone' | 'unknown';
export type Inbound = 'connected' | 'degraded' | 'none';

const NEXT: Record<Lifecycle, Lifecycle[]> = {
  registered: ['online', 'offline', 'retired'],
  online: ['busy', 'offline', 'retired'],
  busy: ['online', 'offline', 'retired'],
  offline: ['online', 'retired'],
  retired: [],
};

/** Whether `from → to` is allowed; `retired → online` needs `liveAgentProof` (fresh runtime evidence). */
export function mayTransition(from: Lifecycle, to: Lifecycle, liveAgentProof = false): boolean {
  if (from === to) return true;
  if (from === 'retired' && to === 'online') return liveAgentProof;
  return NEXT[from].includes(to);
}

/** Nothing addressable is dead: online or busy, and no evidence that the agent is gone. */
export function isAddressable(p: { lifecycle: Lifecycle; runtime: Runtime }): boolean {
  return (p.lifecycle === 'online' || p.lifecycle === 'busy') && p.runtime !== 'gone';
}
