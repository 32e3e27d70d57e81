import type { Disposer, EventBus, Logger, PlinthEvent } from 'plinth/sdk';
import type { MemoryStore } from './memory-store';

/**
 * Episodic memory writes itself: the agent runtime and the jobs plugin publish what happened on the
 * bus, and each owned event becomes an entry (system events, with no owner, are nobody's memory).
 * The event id is unique in the table, so a redelivered event is recorded once.
 */
export function recordEpisodes(bus: EventBus, store: MemoryStore, options: { topics: string[]; maxChars: number; log: Logger }): Disposer {
  const disposers = options.topics.map(topic => bus.subscribe(topic, async (event: PlinthEvent) => {
    if (!event.owner) return;
    const payload = (event.payload ?? {}) as Record<string, any>;
    try {
      await store.add({
        owner: event.owner, kind: 'episodic', topic: event.topic, event_id: event.id, occurred_at: event.time,
        source: event.topic, session_id: str(payload.sessionId ?? payload.session_id),
        text: clip(describeEvent(event.topic, payload), options.maxChars),
      });
    } catch (err) {
      options.log.warn('could not record an episode', { topic: event.topic, event: event.id, error: (err as Error).message });
    }
  }));
  return () => { for (const d of disposers) d(); };
}

/** A sentence a model can read back; field names follow the agents and jobs contracts, loosely. */
export function describeEvent(topic: string, p: Record<string, any>): string {
  switch (topic) {
    case 'agent.turn.completed': {
      const who = str(p.agent) ?? 'the agent';
      const parts = [`Turn with ${who}.`];
      if (p.message !== undefined) parts.push(`User: ${text(p.message)}`);
      if (p.text !== undefined) parts.push(`Answer: ${text(p.text)}`);
      return parts.join(' ');
    }
    case 'agent.tool.called': {
      const name = str(p.name ?? p.tool) ?? 'a tool';
      const outcome = p.ok === false ? 'failed' : 'returned';
      return `Tool ${name} called with ${text(p.input ?? p.arguments ?? {})}; ${outcome} ${text(p.output ?? p.result ?? p.error ?? '')}`.trim();
    }
    case 'job.completed':
    case 'job.failed': {
      const what = str(p.title) ?? str(p.kind) ?? 'job';
      const id = str(p.id ?? p.jobId);
      const outcome = topic === 'job.completed' ? `completed: ${text(p.result ?? '')}` : `failed: ${text(p.error ?? '')}`;
      return `Job ${what}${id ? ` (${id})` : ''} ${outcome}`.trim();
    }
    default:
      return `${topic}: ${text(p)}`;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  try { return JSON.stringify(v) ?? ''; } catch { return String(v); }
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 1) + '…';
}
