import type { ChatMessage, ToolCallRequest } from 'plinth/contracts/agents';
import { invalidRequest } from './errors';

/**
 * The Messages API request, read by hand (not by route schema) so that every refusal comes in
 * Anthropic's error shape and names the field the way the API does (`messages.1.content.0`).
 * Reference: https://docs.anthropic.com/en/api/messages
 */
export interface MessagesRequest {
  model: string;
  /** In the runtime's shape: `system` first, tool results as `tool` messages. */
  messages: ChatMessage[];
  maxTokens: number;
  stream: boolean;
  tools?: Array<{ name: string; description: string; parameters: Record<string, unknown> }>;
  temperature?: number;
}

const isObject = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);

/** `POST /v1/messages`: max_tokens is required, as the API requires it. */
export function parseMessagesRequest(body: unknown): MessagesRequest {
  const parsed = parseConversation(body);
  const b = body as Record<string, any>;
  if (!Number.isInteger(b.max_tokens) || b.max_tokens < 1) throw invalidRequest('max_tokens: Field required (a positive integer)');
  if (b.temperature !== undefined && (typeof b.temperature !== 'number' || b.temperature < 0 || b.temperature > 1)) throw invalidRequest('temperature: must be a number from 0 to 1');
  if (b.stream !== undefined && typeof b.stream !== 'boolean') throw invalidRequest('stream: must be a boolean');
  return { ...parsed, maxTokens: b.max_tokens, stream: b.stream === true, temperature: b.temperature };
}

/** `POST /v1/messages/count_tokens`: the same conversation, no max_tokens. */
export function parseConversation(body: unknown): Pick<MessagesRequest, 'model' | 'messages' | 'tools'> {
  if (!isObject(body)) throw invalidRequest('the body must be a JSON object');
  if (typeof body.model !== 'string' || !body.model) throw invalidRequest('model: Field required');
  if (!Array.isArray(body.messages) || !body.messages.length) throw invalidRequest('messages: at least one message is required');
  const messages: ChatMessage[] = [];
  const system = systemText(body.system);
  if (system) messages.push({ role: 'system', content: system });
  /** tool_use id → tool name, so a tool_result can say which tool it answers. */
  const toolNames = new Map<string, string>();
  body.messages.forEach((m: unknown, i: number) => {
    if (!isObject(m)) throw invalidRequest(`messages.${i}: must be an object`);
    if (m.role !== 'user' && m.role !== 'assistant') throw invalidRequest(`messages.${i}.role: must be "user" or "assistant" (system text goes in the top-level system field)`);
    const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
    if (!Array.isArray(blocks)) throw invalidRequest(`messages.${i}.content: must be a string or an array of content blocks`);
    let text = '';
    const calls: ToolCallRequest[] = [];
    blocks.forEach((block: unknown, j: number) => {
      const at = `messages.${i}.content.${j}`;
      if (!isObject(block)) throw invalidRequest(`${at}: must be an object`);
      if (block.type === 'text') {
        if (typeof block.text !== 'string') throw invalidRequest(`${at}.text: Field required`);
        text += block.text;
      } else if (block.type === 'tool_use' && m.role === 'assistant') {
        if (typeof block.id !== 'string' || typeof block.name !== 'string' || !isObject(block.input)) throw invalidRequest(`${at}: tool_use needs id, name and an input object`);
        toolNames.set(block.id, block.name);
        calls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input) });
      } else if (block.type === 'tool_result' && m.role === 'user') {
        if (typeof block.tool_use_id !== 'string') throw invalidRequest(`${at}.tool_use_id: Field required`);
        const name = toolNames.get(block.tool_use_id);
        if (!name) throw invalidRequest(`${at}: tool_result ${block.tool_use_id} answers no tool_use of an earlier assistant message`);
        const content = block.content === undefined ? '' : typeof block.content === 'string' ? block.content : textOf(block.content, `${at}.content`);
        messages.push({ role: 'tool', tool_call_id: block.tool_use_id, name, content: block.is_error === true ? `error: ${content}` : content });
      } else {
        throw invalidRequest(`${at}.type: "${String(block.type)}" is not supported in a ${m.role} message here (text${m.role === 'assistant' ? ', tool_use' : ', tool_result'})`);
      }
    });
    if (m.role === 'assistant') messages.push({ role: 'assistant', content: text, ...(calls.length ? { tool_calls: calls } : {}) });
    else if (text || !blocks.length) messages.push({ role: 'user', content: text });
  });
  let tools: MessagesRequest['tools'];
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) throw invalidRequest('tools: must be an array');
    tools = body.tools.map((t: unknown, i: number) => {
      if (!isObject(t) || typeof t.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(t.name)) throw invalidRequest(`tools.${i}.name: must match ^[a-zA-Z0-9_-]{1,64}$`);
      if (!isObject(t.input_schema)) throw invalidRequest(`tools.${i}.input_schema: Field required`);
      return { name: t.name, description: typeof t.description === 'string' ? t.description : '', parameters: t.input_schema };
    });
  }
  return { model: body.model, messages, tools };
}

function systemText(system: unknown): string {
  if (system === undefined || system === null) return '';
  if (typeof system === 'string') return system;
  return textOf(system, 'system');
}

function textOf(blocks: unknown, at: string): string {
  if (!Array.isArray(blocks)) throw invalidRequest(`${at}: must be a string or an array of text blocks`);
  return blocks.map((b, j) => {
    if (!isObject(b) || b.type !== 'text' || typeof b.text !== 'string') throw invalidRequest(`${at}.${j}: only text blocks are supported`);
    return b.text;
  }).join('\n');
}
