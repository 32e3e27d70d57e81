'use strict';
// A fake OpenAI-compatible upstream in its own process, so neither the kernel nor the load
// generator shares an event loop with it: streams the words of the last message as SSE chunks,
// one every BENCH_CHUNK_DELAY_MS, in the exact Chat Completions wire format (usage, [DONE]).
const { createServer } = require('node:http');

const delay = Number(process.env.BENCH_CHUNK_DELAY_MS ?? 1);
let n = 0;
const sleep = ms => new Promise(r => setTimeout(r, ms));

const server = createServer(async (req, res) => {
  if (req.method === 'GET' && req.url.endsWith('/models')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'fake' }] }));
    return;
  }
  let raw = '';
  for await (const c of req) raw += c;
  const body = JSON.parse(raw);
  const last = body.messages[body.messages.length - 1];
  const words = String(last.content ?? '').split(/(?<= )/);
  const id = `chatcmpl-${++n}`;
  const chunk = (delta, finish = null, extra = {}) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(chunk({ role: 'assistant', content: '' }));
  for (const w of words) {
    res.write(chunk({ content: w }));
    if (delay) await sleep(delay);
  }
  res.write(chunk({}, 'stop'));
  res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1, model: body.model, choices: [], usage: { prompt_tokens: words.length, completion_tokens: words.length, total_tokens: 2 * words.length } })}\n\n`);
  res.end('data: [DONE]\n\n');
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
