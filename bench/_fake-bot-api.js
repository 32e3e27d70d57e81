'use strict';
// A fake Telegram Bot API in its own process: POST /bot<token>/sendMessage (and any other method)
// answered as Telegram does; every reply text is counted, so the bench can check that each
// update was answered exactly once. GET /stats?expect=N → { delivered, unique, duplicates, lost }.
const { createServer } = require('node:http');

const token = process.env.BENCH_BOT_TOKEN;
const counts = new Map();
let delivered = 0;
let nextId = 5000;

const send = (res, status, body) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
const server = createServer(async (req, res) => {
  if (req.method === 'GET' && req.url.startsWith('/stats')) {
    const expect = Number(new URL(req.url, 'http://x').searchParams.get('expect') ?? 0);
    let lost = 0;
    for (let i = 1; i <= expect; i++) if (!counts.has(`m${i}`)) lost++; // the builtin model echoes the text
    return send(res, 200, { delivered, unique: counts.size, duplicates: delivered - counts.size, lost });
  }
  let raw = '';
  for await (const c of req) raw += c;
  const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
  if (!m || m[1] !== token) return send(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
  let params;
  try { params = JSON.parse(raw); } catch { return send(res, 400, { ok: false, error_code: 400, description: 'Bad Request: invalid JSON' }); }
  if (m[2] !== 'sendMessage') return send(res, 200, { ok: true, result: true });
  if (typeof params.text !== 'string' || !params.text.length) return send(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' });
  delivered++;
  counts.set(params.text, (counts.get(params.text) ?? 0) + 1);
  send(res, 200, { ok: true, result: { message_id: nextId++, date: Math.floor(Date.now() / 1000), chat: { id: Number(params.chat_id), type: 'private' }, text: params.text } });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
