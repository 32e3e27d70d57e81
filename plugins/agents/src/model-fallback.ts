import { isPlinthError } from 'plinth/sdk';
import type { AgentProfile, ChatMessage } from './contract';
import { DEFAULT_MODEL_ALIAS } from './agent-store';
import type { ProviderRouter } from './provider-router';
import type { SessionRecord } from './session-store';

/** The first of the agent's model and its fallbacks whose provider exists and whose breaker is not open. */
export function selectModel(router: ProviderRouter, resolveModel: (model: string) => string, agent: AgentProfile, session: SessionRecord) {
  const requested = resolveModel(session.model ?? agent.model);
  const why = session.model ? 'session model' : agent.model === DEFAULT_MODEL_ALIAS ? 'runtime default model (agent model "default")' : 'agent model';
  const candidates = [requested, ...(agent.fallback_models ?? []).map(m => resolveModel(m))].map(model => {
    let available = false;
    let note = 'available';
    try {
      available = router.available(model);
      if (!available) note = router.has(model.split('/')[0]) ? 'circuit breaker open' : 'no such provider';
    } catch (err) { note = (err as Error).message; }
    return { model, available, note };
  });
  const pick = candidates.find(c => c.available);
  const reason = !pick ? candidates.map(c => `${c.model}: ${c.note}`).join('; ')
    : pick.model === requested ? why : `fallback: ${candidates.filter(c => !c.available).map(c => `${c.model} ${c.note}`).join(', ')}`;
  return { requested, chosen: pick?.model ?? null, reason, candidates };
}

export type ModelSelection = ReturnType<typeof selectModel>;

/** Calls the chosen model; when it fails before saying anything, the next available fallback gets the call. */
export async function callModel(router: ProviderRouter, model: string, selection: ModelSelection, request: { messages: ChatMessage[]; tools: any[]; signal: AbortSignal }, onDelta: Parameters<ProviderRouter['chat']>[2]) {
  const order = [model, ...selection.candidates.map(c => c.model).filter(m => m !== model)];
  let lastError: unknown;
  for (const candidate of order) {
    if (candidate !== model && !router.available(candidate)) continue;
    let said = false;
    try {
      return await router.chat(candidate, request, d => { said = true; onDelta?.(d); });
    } catch (err) {
      lastError = err;
      const retriable = isPlinthError(err) && (err.status === 502 || err.status === 503);
      if (said || !retriable || order.length === 1) throw err;
    }
  }
  throw lastError;
}
