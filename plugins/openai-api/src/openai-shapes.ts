import { isPlinthError } from 'plinth/sdk';
import type { ChatMessage, ToolCallRequest } from 'plinth/contracts/agents';

/** An error in OpenAI's shape, so that OpenAI clients raise their usual typed errors. */
export class OpenAiError extends Error {
  constructor(readonly status: number, message: string, readonly type: string, readonly code: string | null = null, readonly param: string | null = null) {
    super(message);
  }
  body() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export function toOpenAiError(err: unknown): OpenAiError {
  if (err instanceof OpenAiError) return err;
  if (isPlinthError(err)) {
    if (err.code === 'PLINTH_ERR_MODEL_NOT_FOUND' || (err.status === 404 && /agent/.test(err.message))) return new OpenAiError(404, err.message, 'invalid_request_error', 'model_not_found', 'model');
    if (err.status === 404) return new OpenAiError(404, err.message, 'invalid_request_error', 'not_found');
    if (err.status === 503) return new OpenAiError(503, err.message, 'server_error', 'provider_unavailable');
    if (err.status === 502) return new OpenAiError(502, err.message, 'server_error', 'provider_error');
    if (err.status === 409) return new OpenAiError(409, err.message, 'invalid_request_error', 'conflict');
    if (err.status < 500) return new OpenAiError(err.status, err.message, 'invalid_request_error', err.code);
  }
  return new OpenAiError(500, 'the server failed to answer this request', 'server_error', 'internal_error');
}

const invalid = (message: string, param: string) => new OpenAiError(400, message, 'invalid_request_error', 'invalid_value', param);

export interface CompletionRequest {
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  includeUsage: boolean;
  tools?: Array<{ name: string; description: string; parameters: Record<string, unknown> }>;
  temperature?: number;
  maxTokens?: number;
}

/** Validates the request body by hand (not by route schema) so that errors come in OpenAI's shape. */
export function parseCompletionRequest(body: any): CompletionRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('the body must be a JSON object', 'body');
  if (typeof body.model !== 'string' || !body.model) throw invalid('model is required', 'model');
  if (!Array.isArray(body.messages) || !body.messages.length) throw invalid('messages must be a non-empty array', 'messages');
  const messages = body.messages.map((m: any, i: number): ChatMessage => {
    if (!m || typeof m !== 'object') throw invalid(`messages[${i}] must be an object`, `messages[${i}]`);
    const role = m.role === 'developer' ? 'system' : m.role;
    if (!['system', 'user', 'assistant', 'tool'].includes(role)) throw invalid(`messages[${i}].role "${m.role}" is not one of system, developer, user, assistant, tool`, `messages[${i}].role`);
    const content = contentText(m.content, i);
    if (role === 'tool') {
      if (typeof m.tool_call_id !== 'string') throw invalid(`messages[${i}].tool_call_id is required for tool messages`, `messages[${i}].tool_call_id`);
      return { role, content, tool_call_id: m.tool_call_id };
    }
    if (role === 'assistant' && Array.isArray(m.tool_calls)) {
      const calls: ToolCallRequest[] = m.tool_calls.map((c: any, j: number) => {
        if (typeof c?.id !== 'string' || typeof c?.function?.name !== 'string') throw invalid(`messages[${i}].tool_calls[${j}] needs id and function.name`, `messages[${i}].tool_calls`);
        return { id: c.id, name: c.function.name, arguments: typeof c.function.arguments === 'string' ? c.function.arguments : '{}' };
      });
      return { role, content, tool_calls: calls };
    }
    return { role, content };
  });
  let tools: CompletionRequest['tools'];
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) throw invalid('tools must be an array', 'tools');
    tools = body.tools.map((t: any, i: number) => {
      if (t?.type !== 'function' || typeof t.function?.name !== 'string') throw invalid(`tools[${i}] must be { type: "function", function: { name, parameters } }`, `tools[${i}]`);
      return { name: t.function.name, description: t.function.description ?? '', parameters: t.function.parameters ?? { type: 'object', properties: {} } };
    });
  }
  if (body.temperature !== undefined && (typeof body.temperature !== 'number' || body.temperature < 0 || body.temperature > 2)) throw invalid('temperature must be a number from 0 to 2', 'temperature');
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) throw invalid('max_tokens must be a positive integer', 'max_tokens');
  return {
    model: body.model, messages, stream: body.stream === true, includeUsage: body.stream_options?.include_usage === true,
    tools, temperature: body.temperature, maxTokens,
  };
}

function contentText(content: unknown, i: number): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p: any) => {
      if (p?.type === 'text' && typeof p.text === 'string') return p.text;
      throw invalid(`messages[${i}].content: only text parts are supported`, `messages[${i}].content`);
    }).join('');
  }
  throw invalid(`messages[${i}].content must be a string or an array of text parts`, `messages[${i}].content`);
}
