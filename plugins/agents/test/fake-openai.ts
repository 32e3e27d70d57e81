/**
 * A scripted OpenAI-compatible server on 127.0.0.1 speaking the real wire format: Chat
 * Completions with SSE streaming (text deltas, tool-call deltas split across chunks, usage in the
 * last chunk, `data: [DONE]`), and the failures a real endpoint shows (HTTP errors, garbage, a
 * stream cut short, a stall). Each request takes the next script; without one it echoes.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Script =
  | { text: string[]; usage?: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details?: { cached_tokens: number } }; delayMs?: number }
  | { toolCalls: Array<{ id: string; name: string; args: string[] }>; text?: string[] }
  | { status: number; message?: string }
  | { garbage: string }
  | { cut: string[] }
  | { stall: string[] };

export interface FakeOpenAi {
  baseUrl: string;
  requests: any[];
  headers: IncomingMessage['headers'][];
  /** Streams of `stall` scripts whose client went away. */
  aborted: number;
  script(...s: Script[]): void;
  close(): Promise<void>;
}

export async function startFakeOpenAi(options: { chunkDelayMs?: number; models?: string[] } = {}): Promise<FakeOpenAi> {
  const queue: Script[] = [];
  const state = { aborted: 0 };
  const requests: any[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const server: Server = createServer(async (req, res) => {
    if (req.method === 'GET' && req.url?.endsWith('/models')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: (options.models ?? ['fake-model']).map(id => ({ id, object: 'model', created: 0, owned_by: 'fake' })) }));
      return;
    }
    let raw = '';
    for await (const c of req) raw += c;
    const body = JSON.parse(raw);
    requests.push(body);
    headers.push(req.headers);
    const last = body.messages[body.messages.length - 1];
    const script: Script = queue.shift() ?? { text: String(last?.content ?? '').split(/(?<= )/) };
    if ('status' in script) {
      res.writeHead(script.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: script.message ?? 'scripted failure', type: 'server_error', param: null, code: null } }));
      return;
    }
    const id = `chatcmpl-${requests.length}`;
    const chunk = (delta: any, finish: string | null = null, extra: any = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
    if (!body.stream) {
      const text = 'text' in script ? (script.text ?? []).join('') : '';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id, object: 'chat.completion', created: 1, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const delay = ('delayMs' in script ? script.delayMs : undefined) ?? options.chunkDelayMs ?? 0;
    const write = async (s: string) => {
      res.write(s);
      if (delay) await new Promise(r => setTimeout(r, delay));
    };
    if ('garbage' in script) { res.end(`data: ${script.garbage}\n\n`); return; }
    if ('cut' in script) {
      for (const t of script.cut) await write(chunk({ content: t }));
      res.socket?.destroy();
      return;
    }
    if ('stall' in script) {
      for (const t of script.stall) await write(chunk({ content: t }));
      res.on('close', () => state.aborted++);
      return; // never ends: the client has to give up
    }
    await write(chunk({ role: 'assistant', content: '' }));
    if ('toolCalls' in script) {
      for (const t of script.text ?? []) await write(chunk({ content: t }));
      for (const [index, call] of script.toolCalls.entries()) {
        await write(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
        for (const piece of call.args) await write(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
      }
      await write(chunk({}, 'tool_calls'));
    } else {
      for (const t of script.text) await write(chunk({ content: t }));
      await write(chunk({}, 'stop'));
    }
    if (body.stream_options?.include_usage) {
      const usage = 'usage' in script && script.usage ? script.usage : { prompt_tokens: 7, completion_tokens: 5 };
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1, model: body.model, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } })}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests, headers,
    get aborted() { return state.aborted; },
    script: (...s) => { queue.push(...s); },
    close: () => new Promise(r => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** Reads an SSE response into frames until it ends (or `until` says stop, then aborts). */
export async function readSse(res: Response, until?: (f: { id?: string; event?: string; data: any }) => boolean, abort?: AbortController) {
  const frames: Array<{ id?: string; event?: string; data: any }> = [];
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const c of res.body as any as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(c, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const f: any = {};
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) f.id = line.slice(4);
          else if (line.startsWith('event: ')) f.event = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (!data.length) continue;
        f.data = JSON.parse(data.join('\n'));
        frames.push(f);
        if (until?.(f)) { abort?.abort(); return frames; }
      }
    }
  } catch (err) {
    if (!abort?.signal.aborted) throw err;
  }
  return frames;
}
