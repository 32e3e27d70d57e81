import { randomBytes } from 'node:crypto';
import type { Clock, RouteRequest, User } from 'plinth/sdk';
import type { AgentRuntime, ChatDelta, ModelRouter, ToolCallRequest, Usage } from 'plinth/contracts/agents';
import { reply } from 'plinth/sdk';
import { toOpenAiError, type CompletionRequest } from './openai-shapes';

type Finish = 'stop' | 'tool_calls' | 'length';
interface Outcome { text: string; toolCalls: ToolCallRequest[]; usage: Usage; finish: Finish }

const AGENT_PREFIX = 'agent/';

/**
 * `/v1/chat/completions` over the runtime: `agent/<name>` runs that agent's loop (its tools run
 * server-side; the caller sees the answer), any other id is proxied to its provider model (the
 * caller's tools come back as tool_calls for the caller to run, as with OpenAI).
 */
export class ChatCompletions {
  constructor(private readonly runtime: AgentRuntime, private readonly models: ModelRouter, private readonly clock: Clock) {}

  async handle(req: RouteRequest, user: User, request: CompletionRequest) {
    const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
    const created = Math.floor(this.clock.now() / 1000);
    if (!request.stream) {
      const out = await this.run(user, request, req.signal);
      return {
        id, object: 'chat.completion', created, model: request.model, system_fingerprint: null,
        choices: [{
          index: 0, logprobs: null, finish_reason: out.finish,
          message: {
            role: 'assistant', content: out.toolCalls.length && !out.text ? null : out.text, refusal: null,
            ...(out.toolCalls.length ? { tool_calls: out.toolCalls.map(c => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) } : {}),
          },
        }],
        usage: usageBody(out.usage),
      };
    }

    // Errors before the first byte keep their HTTP status; after it they arrive as an error event.
    let sse: ReturnType<RouteRequest['sse']> | undefined;
    // Every chunk shares its head and tail: they are serialised once per request, and per chunk
    // only the delta is, which keeps the proxy's per-token cost close to the upstream's own.
    const head = `{"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(request.model)},"system_fingerprint":null,"choices":[{"index":0,"delta":`;
    const tail = request.includeUsage ? ',"usage":null}' : '}';
    const send = (delta: Record<string, unknown>, finish: Finish | null = null) => {
      if (!sse) {
        sse = req.sse();
        sse.send({ data: `${head}{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]${tail}` });
      }
      sse.send({ data: `${head}${JSON.stringify(delta)},"logprobs":null,"finish_reason":${finish ? `"${finish}"` : 'null'}}]${tail}` });
    };
    let toolIndex = 0;
    try {
      const out = await this.run(user, request, req.signal, d => {
        if (d.type === 'text') send({ content: d.text });
        else send({ tool_calls: [{ index: toolIndex++, id: d.call.id, type: 'function', function: { name: d.call.name, arguments: d.call.arguments } }] });
      });
      send({}, out.finish);
      if (request.includeUsage) sse!.send({ data: { id, object: 'chat.completion.chunk', created, model: request.model, system_fingerprint: null, choices: [], usage: usageBody(out.usage) } });
      sse!.send({ data: '[DONE]' });
      sse!.close();
    } catch (err) {
      const e = toOpenAiError(err);
      if (!sse) return reply(e.status, e.body());
      sse.send({ data: e.body() });
      sse.close();
    }
  }

  private async run(user: User, request: CompletionRequest, signal: AbortSignal, onDelta?: (d: ChatDelta) => void): Promise<Outcome> {
    if (request.model.startsWith(AGENT_PREFIX)) {
      const history = request.messages.slice(0, -1);
      const last = request.messages[request.messages.length - 1];
      const result = await this.runtime.runTurn({
        agent: request.model.slice(AGENT_PREFIX.length), message: last.content, user, signal, via: 'openai-api', history,
        onChunk: c => { if (c.type === 'text') onDelta?.({ type: 'text', text: c.text }); },
      });
      return { text: result.text, toolCalls: [], usage: result.usage, finish: 'stop' };
    }
    const result = await this.models.chat(request.model, { messages: request.messages, tools: request.tools, signal, temperature: request.temperature, maxTokens: request.maxTokens }, onDelta, { user, via: 'openai-api' });
    const finish: Finish = result.toolCalls.length ? 'tool_calls' : result.finishReason === 'length' ? 'length' : 'stop';
    return { text: result.text, toolCalls: result.toolCalls, usage: result.usage, finish };
  }
}

function usageBody(u: Usage) {
  return { prompt_tokens: u.inputTokens, completion_tokens: u.outputTokens, total_tokens: u.inputTokens + u.outputTokens };
}
