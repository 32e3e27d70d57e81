import type { ChatDelta, ChatMessage, ChatRequest, ChatResult, ModelProvider, ToolCallRequest, Usage } from '../contract';
import { postJson } from './http-post';
import { ProviderError, httpFailure, isAbortError, sseEvents } from './provider-error';

export interface AnthropicSettings {
  baseUrl(): string;
  apiKey(): string | undefined;
  models(): string[];
  maxTokens: number;
  timeoutMs: number;
}

/**
 * Anthropic's Messages API (`POST /v1/messages`, streamed). System text goes in `system`; tool
 * calls are `tool_use` content blocks whose input arrives as `input_json_delta` pieces; tool
 * results go back as `tool_result` blocks in a user message.
 */
export class AnthropicProvider implements ModelProvider {
  readonly name = 'anthropic';
  constructor(private readonly settings: AnthropicSettings) {}

  async listModels() {
    return this.settings.models().map(id => ({ id }));
  }

  async chat(request: ChatRequest, onDelta?: (delta: ChatDelta) => void): Promise<ChatResult> {
    const system = request.messages.filter(m => m.role === 'system').map(m => m.content).join('\n\n');
    const body: Record<string, unknown> = {
      model: request.model,
      max_tokens: request.maxTokens ?? this.settings.maxTokens,
      messages: toAnthropicMessages(request.messages.filter(m => m.role !== 'system')),
      stream: true,
    };
    if (system) body.system = system;
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (request.tools?.length) body.tools = request.tools.map(t => ({ name: t.name, description: t.description, input_schema: t.parameters }));

    const signal = request.signal ? AbortSignal.any([request.signal, AbortSignal.timeout(this.settings.timeoutMs)]) : AbortSignal.timeout(this.settings.timeoutMs);
    let text = '';
    const blocks: Array<{ type: string; id?: string; name?: string; json: string }> = [];
    const usage: Usage = { inputTokens: 0, outputTokens: 0 };
    let finish: ChatResult['finishReason'] = 'stop';
    try {
      // Over node:http rather than fetch, as the OpenAI provider: half the CPU per relayed event
      // (bench/anthropic-proxy).
      const res = await postJson(`${this.settings.baseUrl().replace(/\/+$/, '')}/v1/messages`,
        { 'anthropic-version': '2023-06-01', accept: 'text/event-stream', ...(this.settings.apiKey() ? { 'x-api-key': this.settings.apiKey()! } : {}) },
        JSON.stringify(body), signal);
      if (res.status < 200 || res.status > 299) throw await httpFailure(this.name, res);
      let stopped = false;
      for await (const { data } of sseEvents(res.body)) {
        // Reading a complete body to its end keeps the connection for the next call.
        if (stopped) continue;
        let ev: any;
        try { ev = JSON.parse(data); } catch { throw new ProviderError(this.name, `anthropic streamed something that is not JSON: ${data.slice(0, 80)}`, res.status, true); }
        switch (ev?.type) {
          case 'message_start':
            usage.inputTokens = ev.message?.usage?.input_tokens ?? 0;
            usage.outputTokens = ev.message?.usage?.output_tokens ?? 0;
            cacheFigures(usage, ev.message?.usage);
            break;
          case 'content_block_start':
            blocks[ev.index] = { type: ev.content_block?.type, id: ev.content_block?.id, name: ev.content_block?.name, json: '' };
            if (ev.content_block?.type === 'text' && ev.content_block.text) {
              text += ev.content_block.text;
              onDelta?.({ type: 'text', text: ev.content_block.text });
            }
            break;
          case 'content_block_delta':
            if (ev.delta?.type === 'text_delta') {
              text += ev.delta.text;
              onDelta?.({ type: 'text', text: ev.delta.text });
            } else if (ev.delta?.type === 'input_json_delta' && blocks[ev.index]) {
              blocks[ev.index].json += ev.delta.partial_json;
            }
            break;
          case 'message_delta':
            if (ev.usage?.output_tokens !== undefined) usage.outputTokens = ev.usage.output_tokens;
            cacheFigures(usage, ev.usage);
            if (ev.delta?.stop_reason) finish = STOP_REASONS[ev.delta.stop_reason] ?? 'stop';
            break;
          case 'message_stop':
            stopped = true;
            break;
          case 'error':
            throw new ProviderError(this.name, `anthropic failed mid-stream: ${ev.error?.message ?? 'unknown error'}`, undefined, true);
          case 'ping': case 'content_block_stop':
            break;
          default:
            throw new ProviderError(this.name, `anthropic streamed an unexpected event ${String(ev?.type)}`, res.status, true);
        }
        if (stopped && !res.body.complete) break;
      }
      if (!stopped && !signal.aborted) throw new ProviderError(this.name, 'anthropic closed the stream before message_stop', res.status, true);
    } catch (err) {
      // The timeout aborts the request like a caller would: tell them apart by the signal's reason.
      if (!request.signal?.aborted && signal.aborted && (signal.reason as Error)?.name === 'TimeoutError') {
        throw new ProviderError(this.name, `anthropic did not answer within ${this.settings.timeoutMs} ms`, undefined, true, { cause: err });
      }
      if (isAbortError(err, request.signal)) return { text, toolCalls: [], usage, finishReason: 'aborted' };
      if (err instanceof ProviderError) throw err;
      if ((err as Error)?.name === 'TimeoutError') throw new ProviderError(this.name, `anthropic did not answer within ${this.settings.timeoutMs} ms`, undefined, true, { cause: err });
      throw new ProviderError(this.name, `anthropic is unreachable: ${(err as Error).message}`, undefined, true, { cause: err });
    }
    const toolCalls: ToolCallRequest[] = blocks.filter(b => b?.type === 'tool_use').map(b => ({ id: b.id!, name: b.name!, arguments: b.json || '{}' }));
    for (const call of toolCalls) onDelta?.({ type: 'tool_call', call });
    return { text, toolCalls, usage, finishReason: toolCalls.length ? 'tool_calls' : finish };
  }
}

/**
 * Anthropic's `stop_reason` in the runtime's (OpenAI's) words; `end_turn`, `stop_sequence`,
 * `pause_turn` and any new one count as a complete answer.
 */
const STOP_REASONS: Record<string, ChatResult['finishReason']> = {
  max_tokens: 'length', model_context_window_exceeded: 'length', tool_use: 'tool_calls', refusal: 'content_filter',
};

function toAnthropicMessages(messages: ChatMessage[]): Array<{ role: 'user' | 'assistant'; content: unknown }> {
  const out: Array<{ role: 'user' | 'assistant'; content: any[] }> = [];
  const push = (role: 'user' | 'assistant', block: unknown) => {
    const last = out[out.length - 1];
    // The API wants user and assistant turns to alternate: consecutive blocks of one role merge.
    if (last?.role === role) last.content.push(block);
    else out.push({ role, content: [block] });
  };
  for (const m of messages) {
    if (m.role === 'tool') push('user', { type: 'tool_result', tool_use_id: m.tool_call_id, content: m.content });
    else if (m.role === 'assistant') {
      if (m.content) push('assistant', { type: 'text', text: m.content });
      for (const c of m.tool_calls ?? []) push('assistant', { type: 'tool_use', id: c.id, name: c.name, input: safeJson(c.arguments) });
    } else push('user', { type: 'text', text: m.content });
  }
  return out;
}

function safeJson(s: string): unknown {
  try { return JSON.parse(s); } catch { return {}; }
}

/** Anthropic reports prompt caching as `cache_read_input_tokens` (a hit) and `cache_creation_input_tokens` (written), beside input_tokens. */
function cacheFigures(usage: Usage, u: any): void {
  if (typeof u?.cache_read_input_tokens === 'number') usage.cacheReadTokens = u.cache_read_input_tokens;
  if (typeof u?.cache_creation_input_tokens === 'number') usage.cacheWriteTokens = u.cache_creation_input_tokens;
}
