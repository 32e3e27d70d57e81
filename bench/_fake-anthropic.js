'use strict';
// A fake Anthropic Messages API in its own process (see _fake-openai.js for why): streams the words
// of the last user message as text_delta events, one every BENCH_CHUNK_DELAY_MS, in the documented
// event sequence (message_start, ping, content_block_start/delta/stop, message_delta, message_stop).
const { createServer } = require('node:http');

const delay = Number(process.env.BENCH_CHUNK_DELAY_MS ?? 1);
let n = 0;
const sleep = ms => new Promise(r => setTimeout(r, ms));

const server = createServer(async (req, res) => {
  let raw = '';
  for await (const c of req) raw += c;
  const body = JSON.parse(raw);
  const last = body.messages[body.messages.length - 1];
  const text = typeof last.content === 'string' ? last.content : last.content.map(b => b.text ?? '').join('');
  const words = text.split(/(?<= )/);
  const send = (event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  send('message_start', { type: 'message_start', message: { id: `msg_${++n}`, type: 'message', role: 'assistant', content: [], model: body.model, stop_reason: null, stop_sequence: null, usage: { input_tokens: words.length, output_tokens: 1 } } });
  send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  send('ping', { type: 'ping' });
  for (const w of words) {
    send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w } });
    if (delay) await sleep(delay);
  }
  send('content_block_stop', { type: 'content_block_stop', index: 0 });
  send('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: words.length } });
  send('message_stop', { type: 'message_stop' });
  res.end();
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
