import type { ChatDelta, ChatMessage, ChatRequest, ChatResult, ModelProvider, ToolCallRequest, Usage } from '../contract';
import { postJson } from './http-post';
import { ProviderError, httpFailure, isAbortError, sseEvents } from './provider-error';

export interface OpenAiSettings {
  baseUrl(): string;
  apiKey(): string | undefined;
  /** Listed when the endpoint cannot list its models (offline, or an endpoint without /models). */
  fallbackModels(): string[];
  /** False when no endpoint or key is set: then nothing is asked of the network. */
  configured(): boolean;
  timeoutMs: number;
}

/**
 * Any OpenAI-compatible Chat Completions endpoint (OpenAI, Ollama, LM Studio, vLLM, llama.cpp
 * server), spoken over fetch. Streams with `stream_options.include_usage` so usage arrives in the
 * last chunk; tool-call arguments arrive in pieces keyed by `index` and are joined here.
 */
export class OpenAiProvider implements ModelProvider {
  constructor(readonly name: string, private readonly settings: OpenAiSettings) {}

  async listModels() {
    if (!this.settings.configured()) return [];
    try {
      const res = await fetch(`${this.base()}/models`, { headers: this.headers(), signal: AbortSignal.timeout(3000) });
      if (!res.ok) throw new Error(String(res.status));
      const body = await res.json() as { data?: Array<{ id: string }> };
      if (!Array.isArray(body.data)) throw new Error('no data');
      return body.data.map(m => ({ id: String(m.id) }));
    } catch {
      return this.settings.fallbackModels().map(id => ({ id }));
    }
  }

  async chat(request: ChatRequest, onDelta?: (delta: ChatDelta) => void): Promise<ChatResult> {
    const body: Record<string, unknown> = {
      model: request.model,
      messages: request.messages.map(toWire),
      stream: true,
      stream_options: { include_usage: true },
    };
    if (request.tools?.length) {
      body.tools = request.tools.map(t => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
    }
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;

    const signal = request.signal ? AbortSignal.any([request.signal, AbortSignal.timeout(this.settings.timeoutMs)]) : AbortSignal.timeout(this.settings.timeoutMs);
    let text = '';
    const calls: Array<{ id: string; name: string; arguments: string }> = [];
    const usage: Usage = { inputTokens: 0, outputTokens: 0 };
    let finish: ChatResult['finishReason'] = 'stop';
    try {
      const res = await postJson(`${this.base()}/chat/completions`, { ...this.headers(), accept: 'text/event-stream' }, JSON.stringify(body), signal);
      if (res.status < 200 || res.status > 299) throw await httpFailure(this.name, res);
      if (res.contentType.includes('application/json')) return this.fromCompletion(JSON.parse(await res.text()), onDelta);
      let sawDone = false;
      let sawAny = false;
      for await (const { data } of sseEvents(res.body)) {
        if (sawDone) continue;
        if (data === '[DONE]') {
          sawDone = true;
          // Reading a complete body to its end keeps the connection for the next call; leaving
          // the loop early would close it (and the next call pays a new connection).
          if (res.body.complete) continue;
          break;
        }
        let chunk: any;
        try { chunk = JSON.parse(data); } catch { throw new ProviderError(this.name, `${this.name} streamed something that is not JSON: ${data.slice(0, 80)}`, res.status, true); }
        if (chunk?.error) throw new ProviderError(this.name, `${this.name} failed mid-stream: ${chunk.error.message ?? JSON.stringify(chunk.error)}`, undefined, true);
        if (!chunk || typeof chunk !== 'object' || !('choices' in chunk || 'usage' in chunk)) {
          throw new ProviderError(this.name, `${this.name} streamed an unexpected chunk`, res.status, true);
        }
        sawAny = true;
        if (chunk.usage) {
          Object.assign(usage, openAiUsage(chunk.usage));
        }
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        const delta = choice.delta ?? {};
        if (typeof delta.content === 'string' && delta.content) {
          text += delta.content;
          onDelta?.({ type: 'text', text: delta.content });
        }
        for (const tc of delta.tool_calls ?? []) {
          const i = typeof tc.index === 'number' ? tc.index : calls.length;
          calls[i] ??= { id: '', name: '', arguments: '' };
          if (tc.id) calls[i].id = tc.id;
          if (tc.function?.name) calls[i].name += tc.function.name;
          if (tc.function?.arguments) calls[i].arguments += tc.function.arguments;
        }
        if (choice.finish_reason) finish = mapFinish(choice.finish_reason);
      }
      if (!sawDone && !sawAny) throw new ProviderError(this.name, `${this.name} closed the stream without an answer`, res.status, true);
      if (!sawDone && !signal.aborted) throw new ProviderError(this.name, `${this.name} closed the stream before [DONE]`, res.status, true);
    } catch (err) {
      // The timeout aborts the request like a caller would: tell them apart by the signal's reason.
      if (!request.signal?.aborted && signal.aborted && (signal.reason as Error)?.name === 'TimeoutError') {
        throw new ProviderError(this.name, `${this.name} did not answer within ${this.settings.timeoutMs} ms`, undefined, true, { cause: err });
      }
      if (isAbortError(err, request.signal)) {
        return { text, toolCalls: [], usage, finishReason: 'aborted' };
      }
      if (err instanceof ProviderError) throw err;
      if ((err as Error)?.name === 'TimeoutError') throw new ProviderError(this.name, `${this.name} did not answer within ${this.settings.timeoutMs} ms`, undefined, true, { cause: err });
      throw new ProviderError(this.name, `${this.name} is unreachable: ${(err as Error).message}${(err as any).cause ? ` (${(err as any).cause.code ?? (err as any).cause.message})` : ''}`, undefined, true, { cause: err });
    }
    const toolCalls: ToolCallRequest[] = calls.filter(Boolean).map((c, i) => ({ id: c.id || `call_${i}`, name: c.name, arguments: c.arguments || '{}' }));
    for (const call of toolCalls) onDelta?.({ type: 'tool_call', call });
    if (toolCalls.length) finish = 'tool_calls';
    return { text, toolCalls, usage, finishReason: finish };
  }

  private fromCompletion(body: any, onDelta?: (delta: ChatDelta) => void): ChatResult {
    const message = body?.choices?.[0]?.message;
    if (!message) throw new ProviderError(this.name, `${this.name} answered without choices`, 200, true);
    const text = typeof message.content === 'string' ? message.content : '';
    if (text) onDelta?.({ type: 'text', text });
    const toolCalls: ToolCallRequest[] = (message.tool_calls ?? []).map((c: any) => ({ id: c.id, name: c.function?.name, arguments: c.function?.arguments ?? '{}' }));
    for (const call of toolCalls) onDelta?.({ type: 'tool_call', call });
    return {
      text, toolCalls,
      usage: openAiUsage(body.usage),
      finishReason: toolCalls.length ? 'tool_calls' : mapFinish(body.choices[0].finish_reason),
    };
  }

  private base(): string {
    return this.settings.baseUrl().replace(/\/+$/, '');
  }

  private headers(): Record<string, string> {
    const key = this.settings.apiKey();
    return key ? { authorization: `Bearer ${key}` } : {};
  }
}

/** OpenAI's `finish_reason`; an unknown one counts as a complete answer. */
function mapFinish(reason: string): ChatResult['finishReason'] {
  if (reason === 'tool_calls' || reason === 'function_call') return 'tool_calls';
  return reason === 'length' || reason === 'content_filter' ? reason : 'stop';
}

function toWire(m: ChatMessage): Record<string, unknown> {
  if (m.role === 'tool') return { role: 'tool', tool_call_id: m.tool_call_id, content: m.content };
  if (m.role === 'assistant' && m.tool_calls?.length) {
    return {
      role: 'assistant', content: m.content || null,
      tool_calls: m.tool_calls.map(c => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
    };
  }
  return { role: m.role, content: m.content };
}

/** OpenAI's usage; `prompt_tokens_details.cached_tokens` (when the endpoint reports it) is the part of the prompt read from its cache. */
function openAiUsage(u: any): Usage {
  const cached = u?.prompt_tokens_details?.cached_tokens;
  return { inputTokens: u?.prompt_tokens ?? 0, outputTokens: u?.completion_tokens ?? 0, ...(typeof cached === 'number' ? { cacheReadTokens: cached } : {}) };
}
