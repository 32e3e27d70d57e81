import { isPlinthError, newId, type ModelRouter } from 'plinth/sdk';
import type { ProviderRouter } from './model-router';
import type { TurnStore } from './turn-store';

/**
 * The `modelRouterRef` service: provider calls from other plugins (the OpenAI-compatible proxy)
 * go through the same breakers and are recorded as turns without a session, so stats see them.
 */
export function recordedRouter(router: ProviderRouter, turns: TurnStore, price: (model: string) => { input: number; output: number } | undefined, now: () => number): ModelRouter {
  return {
    listModels: () => router.listModels(),
    async chat(model, request, onDelta, meta) {
      if (!meta?.user) return router.chat(model, request, onDelta);
      const id = newId('turn');
      const started = now();
      let ttft: number | null = null;
      // Off the critical path: the row is written while the provider is called (finish waits for it).
      const startRow = turns.start({ id, session_id: null, owner: meta.user.id, agent: null, model, model_selection: { requested: model, chosen: model, reason: 'requested by the caller' }, context: request.messages, via: meta.via ?? 'proxy' }).catch(() => undefined);
      const finish = (r: { input: number; output: number; status: 'ok' | 'partial' | 'error'; error: string | null }) => {
        const p = price(model);
        return startRow.then(() => turns.finish(id, {
          model, model_selection: { requested: model, chosen: model, reason: 'requested by the caller' }, tool_calls: [], input_tokens: r.input, output_tokens: r.output,
          cost: p ? (r.input * p.input + r.output * p.output) / 1e6 : 0, latency_ms: now() - started, ttft_ms: ttft, status: r.status, error: r.error,
        }));
      };
      try {
        const result = await router.chat(model, request, d => { if (ttft === null) ttft = now() - started; onDelta?.(d); });
        // Recorded after the answer went out, so bookkeeping adds nothing to the caller's latency.
        void finish({ input: result.usage.inputTokens, output: result.usage.outputTokens, status: result.finishReason === 'aborted' ? 'partial' : 'ok', error: null }).catch(() => undefined);
        return result;
      } catch (err) {
        void finish({ input: 0, output: 0, status: 'error', error: isPlinthError(err) ? err.message : String(err) }).catch(() => undefined);
        throw err;
      }
    },
  };
}
