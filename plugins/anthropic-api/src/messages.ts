import { randomBytes } from 'node:crypto';
import { reply, type RouteRequest, type User } from 'plinth/sdk';
import type { AgentRuntime, ChatDelta, ChatMessage, ModelRouter, ToolCallRequest, Usage } from 'plinth/contracts/agents';
import { toAnthropicError } from './errors';
import type { MessagesRequest } from './schemas';

type StopReason = 'end_turn' | 'tool_use' | 'max_tokens';
interface Outcome { text: string; toolCalls: ToolCallRequest[]; usage: Usage; stop: StopReason }

export const AGENT_PREFIX = 'agent/';

/** A tool call's arguments as the input object Anthropic's tool_use blocks carry. */
function inputOf(call: ToolCallRequest): Record<string, unknown> {
  try {
    const v = JSON.parse(call.arguments);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : { value: v };
  } catch {
    // A model may produce bad JSON (the builtin passes it verbatim); the caller sees it, not a 500.
    return { raw: call.arguments };
  }
}

/**
 * `POST /anthropic/v1/messages` over the runtime: `agent/<name>` runs that agent's loop (its tools
 * run server-side; the caller sees the answer), any other id is proxied to its provider model
 * through the agents plugin's `ModelRouter` (breaker, fallbacks, stats), the caller's tools coming
 * back as `tool_use` blocks for the caller to run.
 */
export class AnthropicMessages {
  constructor(private readonly runtime: AgentRuntime, private readonly models: ModelRouter) {}

  async handle(req: RouteRequest, user: User, request: MessagesRequest) {
    const id = `msg_${randomBytes(12).toString('hex')}`;
    if (!request.stream) {
      const out = await this.run(user, request, req.signal);
      return {
        id, type: 'message', role: 'assistant', model: request.model,
        content: [
          ...(out.text || !out.toolCalls.length ? [{ type: 'text', text: out.text }] : []),
          ...out.toolCalls.map(c => ({ type: 'tool_use', id: c.id, name: c.name, input: inputOf(c) })),
        ],
        stop_reason: out.stop, stop_sequence: null,
        usage: { input_tokens: out.usage.inputTokens, output_tokens: out.usage.outputTokens },
      };
    }

    // The documented sequence (https://docs.anthropic.com/en/api/messages-streaming): message_start,
    // a ping, per block content_block_start / _delta… / _stop, message_delta (stop_reason, usage),
    // message_stop. Nothing is written before the model's first delta or its failure, so an
    // unknown model or an open breaker still answers with its HTTP status.
    let sse: ReturnType<RouteRequest['sse']> | undefined;
    const send = (event: string, data: string) => { sse!.send({ event, data }); };
    let index = -1;
    let textOpen = false;
    const start = () => {
      if (sse) return;
      sse = req.sse();
      send('message_start', `{"type":"message_start","message":{"id":"${id}","type":"message","role":"assistant","model":${JSON.stringify(request.model)},"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}`);
      send('ping', '{"type":"ping"}');
    };
    const closeBlock = () => {
      if (index >= 0) send('content_block_stop', `{"type":"content_block_stop","index":${index}}`);
    };
    // Per text delta only the text is serialised: the proxy's per-token cost stays near the upstream's.
    const onDelta = (d: ChatDelta) => {
      start();
      if (d.type === 'text') {
        if (!textOpen) {
          closeBlock();
          textOpen = true;
          send('content_block_start', `{"type":"content_block_start","index":${++index},"content_block":{"type":"text","text":""}}`);
        }
        send('content_block_delta', `{"type":"content_block_delta","index":${index},"delta":{"type":"text_delta","text":${JSON.stringify(d.text)}}}`);
        return;
      }
      closeBlock();
      textOpen = false;
      const c = d.call;
      send('content_block_start', `{"type":"content_block_start","index":${++index},"content_block":{"type":"tool_use","id":${JSON.stringify(c.id)},"name":${JSON.stringify(c.name)},"input":{}}}`);
      send('content_block_delta', `{"type":"content_block_delta","index":${index},"delta":{"type":"input_json_delta","partial_json":${JSON.stringify(JSON.stringify(inputOf(c)))}}}`);
    };
    try {
      const out = await this.run(user, request, req.signal, onDelta);
      start();
      closeBlock();
      send('message_delta', JSON.stringify({ type: 'message_delta', delta: { stop_reason: out.stop, stop_sequence: null }, usage: { input_tokens: out.usage.inputTokens, output_tokens: out.usage.outputTokens } }));
      send('message_stop', '{"type":"message_stop"}');
      sse!.close();
    } catch (err) {
      const e = toAnthropicError(err);
      if (!sse) return reply(e.status, e.body());
      sse.send({ event: 'error', data: e.body() });
      sse.close();
    }
  }

  private async run(user: User, request: MessagesRequest, signal: AbortSignal, onDelta?: (d: ChatDelta) => void): Promise<Outcome> {
    if (request.model.startsWith(AGENT_PREFIX)) {
      // An agent takes one new message; what comes before it is the history the caller keeps.
      const last = request.messages[request.messages.length - 1];
      const result = await this.runtime.runTurn({
        agent: request.model.slice(AGENT_PREFIX.length), message: last.content, user, signal, via: 'anthropic-api', history: request.messages.slice(0, -1),
        onChunk: c => { if (c.type === 'text') onDelta?.({ type: 'text', text: c.text }); },
      });
      return { text: result.text, toolCalls: [], usage: result.usage, stop: 'end_turn' };
    }
    const result = await this.models.chat(request.model, {
      messages: request.messages, tools: request.tools, signal, temperature: request.temperature, maxTokens: request.maxTokens,
    }, onDelta, { user, via: 'anthropic-api' });
    const stop: StopReason = result.toolCalls.length ? 'tool_use' : result.finishReason === 'length' ? 'max_tokens' : 'end_turn';
    return { text: result.text, toolCalls: result.toolCalls, usage: result.usage, stop };
  }
}

/**
 * `count_tokens`: the contract offers no tokenizer, so this is an estimate (4 characters a token,
 * the rule of thumb Anthropic and OpenAI both document), enough for a client's context budgeting.
 */
export function estimateTokens(request: { messages: ChatMessage[]; tools?: MessagesRequest['tools'] }): number {
  let chars = 0;
  for (const m of request.messages) {
    chars += m.content.length;
    for (const c of m.tool_calls ?? []) chars += c.name.length + c.arguments.length;
  }
  for (const t of request.tools ?? []) chars += t.name.length + t.description.length + JSON.stringify(t.parameters).length;
  return Math.max(1, Math.ceil(chars / 4));
}
