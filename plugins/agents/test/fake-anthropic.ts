/**
 * A scripted Anthropic Messages API on 127.0.0.1 in its real wire format: `POST /v1/messages`
 * with `x-api-key` and `anthropic-version`, answered as SSE `event:` + `data:` pairs
 * (message_start, content_block_start/delta/stop with text_delta and input_json_delta, ping,
 * message_delta with stop_reason and usage, message_stop), errors as `{ type: "error", error }`
 * bodies or a mid-stream `event: error`. Requests are checked the way the API checks them
 * (roles alternate starting with user, every tool_result answers a tool_use of the turn before),
 * so a malformed conversation gets the API's 400 rather than a pass.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type AnthropicScript =
  | { text: string[]; usage?: { input_tokens: number; output_tokens: number } }
  | { toolUse: Array<{ id: string; name: string; json: string[] }>; text?: string[] }
  | { status: number; type: string; message: string }
  | { midStreamError: string; text: string[] };

export interface FakeAnthropic {
  baseUrl: string;
  requests: any[];
  headers: IncomingMessage['headers'][];
  script(...s: AnthropicScript[]): void;
  close(): Promise<void>;
}

/** Why the real API would refuse this body, or undefined when it is well formed. */
function invalid(body: any): string | undefined {
  if (typeof body?.model !== 'string') return 'model: Field required';
  if (!Number.isInteger(body.max_tokens)) return 'max_tokens: Field required';
  if (!Array.isArray(body.messages) || !body.messages.length) return 'messages: at least one message is required';
  if (body.messages.some((m: any) => m.role === 'system')) return 'messages: Unexpected role "system". Use the top-level system parameter';
  if (body.messages[0].role !== 'user') return 'messages: first message must use the "user" role';
  for (let i = 1; i < body.messages.length; i++) {
    if (body.messages[i].role === body.messages[i - 1].role) return `messages: roles must alternate between "user" and "assistant" (message ${i})`;
  }
  for (let i = 0; i < body.messages.length; i++) {
    const blocks = Array.isArray(body.messages[i].content) ? body.messages[i].content : [];
    const results = blocks.filter((b: any) => b.type === 'tool_result');
    if (!results.length) continue;
    const prev = body.messages[i - 1];
    const uses = new Set((Array.isArray(prev?.content) ? prev.content : []).filter((b: any) => b.type === 'tool_use').map((b: any) => b.id));
    for (const r of results) if (!uses.has(r.tool_use_id)) return `messages.${i}: tool_result block(s) provided when previous message does not have a matching tool_use (${r.tool_use_id})`;
  }
  for (const t of body.tools ?? []) if (!/^[a-zA-Z0-9_-]{1,64}$/.test(t.name)) return `tools: name "${t.name}" does not match ^[a-zA-Z0-9_-]{1,64}$`;
  return undefined;
}

export async function startFakeAnthropic(options: { apiKey: string }): Promise<FakeAnthropic> {
  const queue: AnthropicScript[] = [];
  const requests: any[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const error = (res: any, status: number, type: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'error', error: { type, message } }));
  };
  const server: Server = createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    if (req.method !== 'POST' || req.url !== '/v1/messages') return error(res, 404, 'not_found_error', 'Not found');
    if (req.headers['x-api-key'] !== options.apiKey) return error(res, 401, 'authentication_error', 'invalid x-api-key');
    if (!req.headers['anthropic-version']) return error(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    let body: any;
    try { body = JSON.parse(raw); } catch { return error(res, 400, 'invalid_request_error', 'request body is not valid JSON'); }
    requests.push(body);
    headers.push(req.headers);
    const why = invalid(body);
    if (why) return error(res, 400, 'invalid_request_error', why);
    const script = queue.shift() ?? { text: ['ok'] };
    if ('status' in script) return error(res, script.status, script.type, script.message);

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const inputTokens = 'usage' in script && script.usage ? script.usage.input_tokens : 25;
    send('message_start', { type: 'message_start', message: { id: `msg_${requests.length}`, type: 'message', role: 'assistant', content: [], model: body.model, stop_reason: null, stop_sequence: null, usage: { input_tokens: inputTokens, output_tokens: 1 } } });
    let index = 0;
    const texts = 'toolUse' in script ? script.text ?? [] : script.text;
    if (texts.length) {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      send('ping', { type: 'ping' });
      for (const t of texts) send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: t } });
      if ('midStreamError' in script) {
        send('error', { type: 'error', error: { type: 'overloaded_error', message: script.midStreamError } });
        res.end();
        return;
      }
      send('content_block_stop', { type: 'content_block_stop', index });
      index++;
    }
    if ('toolUse' in script) {
      for (const use of script.toolUse) {
        send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: use.id, name: use.name, input: {} } });
        for (const piece of use.json) send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
        send('content_block_stop', { type: 'content_block_stop', index });
        index++;
      }
    }
    const outputTokens = 'usage' in script && script.usage ? script.usage.output_tokens : 15;
    send('message_delta', { type: 'message_delta', delta: { stop_reason: 'toolUse' in script ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: outputTokens } });
    send('message_stop', { type: 'message_stop' });
    res.end();
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests, headers,
    script: (...s) => { queue.push(...s); },
    close: () => new Promise(r => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
