import { ProviderError } from './provider-error';
import type { ChatDelta, ChatRequest, ChatResult, ModelProvider } from '../contract';

const TOOL_COMMAND = /^\/tool\s+(\S+)\s*([\s\S]*)$/;

/**
 * The offline provider, so that Plinth works with no model at all: deterministic, no network.
 * - `/tool <name> <json>` as the last user message: it calls that tool with that JSON (verbatim,
 *   so bad JSON or bad arguments reach the tool loop as a model would send them).
 * - after tool results: it reports them (`<tool> returned <output>`) and stops.
 * - anything else: it echoes the last user message back.
 * Text is streamed word by word; tokens are counted as whitespace-separated words.
 */
export class BuiltinProvider implements ModelProvider {
  readonly name = 'builtin';
  private calls = 0;

  async listModels() {
    return [{ id: 'echo', contextWindow: 1_000_000 }];
  }

  async chat(request: ChatRequest, onDelta?: (delta: ChatDelta) => void): Promise<ChatResult> {
    if (request.model !== 'echo') throw new ProviderError('builtin', `builtin has one model, echo, not "${request.model}"`, 404, false);
    const inputTokens = request.messages.reduce((n, m) => n + words(m.content), 0);
    const last = request.messages[request.messages.length - 1];
    if (last?.role === 'user') {
      const m = TOOL_COMMAND.exec(last.content.trim());
      if (m) {
        const call = { id: `call_builtin_${++this.calls}`, name: m[1], arguments: m[2].trim() || '{}' };
        onDelta?.({ type: 'tool_call', call });
        return { text: '', toolCalls: [call], usage: { inputTokens, outputTokens: 1 }, finishReason: 'tool_calls' };
      }
    }
    let text: string;
    if (last?.role === 'tool') {
      const results: string[] = [];
      for (let i = request.messages.length - 1; i >= 0 && request.messages[i].role === 'tool'; i--) {
        results.unshift(`${request.messages[i].name ?? 'tool'} returned ${request.messages[i].content}`);
      }
      text = results.join('\n');
    } else {
      text = last?.content ?? '';
    }
    const pieces = text.match(/\S+\s*|\s+/g) ?? [];
    let out = '';
    for (const piece of pieces) {
      if (request.signal?.aborted) return { text: out, toolCalls: [], usage: { inputTokens, outputTokens: words(out) }, finishReason: 'aborted' };
      out += piece;
      onDelta?.({ type: 'text', text: piece });
    }
    return { text: out, toolCalls: [], usage: { inputTokens, outputTokens: words(out) }, finishReason: 'stop' };
  }
}

function words(s: string): number {
  return (s.match(/\S+/g) ?? []).length;
}
