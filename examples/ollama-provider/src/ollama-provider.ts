import type { ChatDelta, ChatMessage, ChatRequest, ChatResult, ModelProvider, ToolCallRequest } from 'plinth/contracts/agents';
import { errorCodes } from './errors';

export interface OllamaConfig { baseUrl: string; name: string; timeoutMs: number }

interface OllamaLine {
  message?: { role: string; content?: string; tool_calls?: Array<{ function: { name: string; arguments: unknown } }> };
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  error?: string;
}

/**
 * Ollama's native chat API (https://github.com/ollama/ollama/blob/main/docs/api.md): one JSON
 * object per line while streaming, the last with `done: true` and the token counts. Tool calls come
 * whole (arguments as an object, not JSON text), so they are re-serialised for the agent loop.
 */
export class OllamaProvider implements ModelProvider {
  readonly name: string;
  constructor(private readonly config: OllamaConfig) { this.name = config.name; }

  async listModels() {
    const res = await this.fetch('/api/tags', { method: 'GET' });
    const body = await res.json() as { models?: Array<{ name: string }> };
    return (body.models ?? []).map(m => ({ id: m.name.replace(/:latest$/, '') }));
  }

  async chat(request: ChatRequest, onDelta?: (delta: ChatDelta) => void): Promise<ChatResult> {
    const res = await this.fetch('/api/chat', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: request.model,
        stream: true,
        messages: request.messages.map(toOllamaMessage),
        tools: request.tools?.map(t => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } })),
        options: { temperature: request.temperature, num_predict: request.maxTokens },
      }),
    }, request.signal);
    let text = '';
    const toolCalls: ToolCallRequest[] = [];
    let last: OllamaLine = {};
    for await (const line of ndjson(res.body!)) {
      if (line.error) throw errorCodes.error('PLINTH_ERR_PROVIDER', `ollama: ${line.error}`);
      const piece = line.message?.content ?? '';
      if (piece) { text += piece; onDelta?.({ type: 'text', text: piece }); }
      for (const c of line.message?.tool_calls ?? []) {
        const call = { id: `call_${toolCalls.length + 1}`, name: c.function.name, arguments: JSON.stringify(c.function.arguments ?? {}) };
        toolCalls.push(call);
        onDelta?.({ type: 'tool_call', call });
      }
      if (line.done) { last = line; break; }
    }
    if (!last.done) throw errorCodes.error('PLINTH_ERR_PROVIDER', 'ollama: the stream ended before done');
    return {
      text,
      toolCalls,
      usage: { inputTokens: last.prompt_eval_count ?? 0, outputTokens: last.eval_count ?? 0 },
      finishReason: toolCalls.length ? 'tool_calls' : last.done_reason === 'length' ? 'length' : 'stop',
    };
  }

  private async fetch(path: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    const res = await fetch(this.config.baseUrl.replace(/\/+$/, '') + path, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    if (res.ok) return res;
    const detail = await res.text().catch(() => '');
    throw new ProviderError(this.name, `${this.name} answered ${res.status}: ${detail.slice(0, 200)}`, res.status, res.status >= 500 || res.status === 429);
  }
}

/**
 * The agents plugin's model router recognises a failure by its name (`ProviderError`), `status`
 * and `countsAgainstBreaker`: a 404 becomes "model not found", and only the provider's own failures
 * (5xx, 429, unreachable) count towards opening its circuit breaker — not the caller's mistakes.
 */
export class ProviderError extends Error {
  constructor(readonly provider: string, message: string, readonly status: number | undefined, readonly countsAgainstBreaker: boolean) {
    super(message);
    this.name = 'ProviderError';
  }
}

function toOllamaMessage(m: ChatMessage) {
  return {
    role: m.role,
    content: m.content,
    ...(m.tool_calls?.length ? { tool_calls: m.tool_calls.map(c => ({ function: { name: c.name, arguments: safeJson(c.arguments) } })) } : {}),
  };
}

function safeJson(text: string): unknown {
  try { return JSON.parse(text); } catch { return {}; }
}

async function* ndjson(body: ReadableStream<Uint8Array>): AsyncGenerator<OllamaLine> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line) yield JSON.parse(line) as OllamaLine;
    }
  }
  if (buffer.trim()) yield JSON.parse(buffer) as OllamaLine;
}
