import { isPlinthError, newId, type WriteBehind } from 'plinth/sdk';
import type { FinishReason, ModelRouter, Usage } from './contract';
import { cacheColumns, costOf } from './usage';
import type { ProviderRouter } from './provider-router';
import type { FinishedTurn } from './turn-store';

/**
 * The `modelRouterRef` service: provider calls from other plugins (the OpenAI-compatible proxy)
 * go through the same breakers and are recorded as turns without a session, so stats see them.
 * The turn is written once, finished, behind the answer (WriteBehind): nothing touches the
 * database before the first token or between chunks.
 */
export function recordedRouter(router: ProviderRouter, writer: WriteBehind<FinishedTurn>, price: (model: string) => { input: number; output: number } | undefined, now: () => number): ModelRouter {
  return {
    listModels: () => router.listModels(),
    async chat(model, request, onDelta, meta) {
      if (!meta?.user) return router.chat(model, request, onDelta);
      const owner = meta.user.id;
      const started = now();
      let ttft: number | null = null;
      const record = (r: { input: number; output: number; cache?: Usage; status: 'ok' | 'partial' | 'error'; finish: FinishReason | null; error: string | null }) => {
        const selection = { requested: model, chosen: model, reason: 'requested by the caller' };
        writer.add({
          id: newId('turn'), session_id: null, owner, agent: null, model, model_selection: selection, context: request.messages, tool_calls: [],
          input_tokens: r.input, output_tokens: r.output, ...cacheColumns(r.cache ?? { inputTokens: 0, outputTokens: 0 }), cost: costOf(price, model, { inputTokens: r.input, outputTokens: r.output }),
          latency_ms: now() - started, ttft_ms: ttft, status: r.status, finish_reason: r.finish, error: r.error, via: meta.via ?? 'proxy',
          created_at: new Date(started).toISOString(), completed_at: new Date(now()).toISOString(),
        });
      };
      const tap = onDelta ? (d: Parameters<typeof onDelta>[0]) => { if (ttft === null) ttft = now() - started; onDelta(d); } : (_: unknown) => { if (ttft === null) ttft = now() - started; };
      let result;
      try {
        result = await router.chat(model, request, tap);
      } catch (err) {
        record({ input: 0, output: 0, status: 'error', finish: null, error: isPlinthError(err) ? err.message : String(err) });
        throw err;
      }
      record({ input: result.usage.inputTokens, output: result.usage.outputTokens, cache: result.usage, status: result.finishReason === 'aborted' ? 'partial' : 'ok', finish: result.finishReason, error: null });
      return result;
    },
  };
}
