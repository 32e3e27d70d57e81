import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

const ROOT = join(__dirname, '..', '..', '..');

/** A fake Ollama speaking the native wire format: /api/tags, and /api/chat as NDJSON in small pieces. */
let ollama: Server;
let k: TestKernel;
const chats: any[] = [];
let failWith = 0;
before(async () => {
  ollama = createServer((req, res) => {
    let raw = '';
    req.on('data', c => (raw += c));
    req.on('end', async () => {
      if (req.url === '/api/tags') { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ models: [{ name: 'llama3.2:latest' }, { name: 'qwen2.5:7b' }] })); return; }
      if (req.url !== '/api/chat') { res.writeHead(404).end(); return; }
      const body = JSON.parse(raw);
      chats.push(body);
      if (failWith) { res.writeHead(failWith, { 'content-type': 'application/json' }).end(JSON.stringify({ error: failWith === 404 ? `model "${body.model}" not found, try pulling it first` : 'boom' })); return; }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const last = body.messages.filter((m: any) => m.role === 'user').at(-1).content;
      for (const word of `llama heard: ${last}`.split(/(?= )/)) {
        res.write(JSON.stringify({ model: body.model, message: { role: 'assistant', content: word }, done: false }) + '\n');
        await new Promise(r => setTimeout(r, 2));
      }
      res.end(JSON.stringify({ model: body.model, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', prompt_eval_count: 11, eval_count: 4 }) + '\n');
    });
  });
  await new Promise<void>(r => ollama.listen(0, '127.0.0.1', r));
  k = await createTestKernel({
    plugins: [
      { path: join(ROOT, 'plugins', 'agents'), config: { breaker: { failureThreshold: 2, cooldownMs: 60_000 } } },
      { path: join(__dirname, '..'), config: { baseUrl: `http://127.0.0.1:${(ollama.address() as AddressInfo).port}` } },
    ],
  });
});
after(async () => { await k.stop(); ollama.closeAllConnections(); await new Promise(r => ollama.close(r)); });

test('an agent on `ollama/<model>` answers through the custom provider, streamed, with usage', async () => {
  const u = await k.createUser();
  const models = (await k.request('GET', '/api/models/available', { token: u.token })).body;
  const ids = (models.items ?? models).map((m: any) => m.id);
  assert.ok(ids.includes('ollama/llama3.2') && ids.includes('ollama/qwen2.5:7b'), JSON.stringify(models));

  const agent = await k.request('POST', '/api/agents', { token: u.token, body: { name: 'llama', model: 'ollama/llama3.2', instructions: 'Be brief.' } });
  assert.equal(agent.status, 201, agent.text);
  const res = await fetch(`${k.baseUrl}/api/agent/message/stream`, {
    method: 'POST', headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent: 'llama', message: 'hello there' }),
  });
  const sse = await res.text();
  const chunks = [...sse.matchAll(/event: chunk\ndata: (.*)/g)].map(m => JSON.parse(m[1]));
  assert.ok(chunks.length >= 3, 'the answer arrived in pieces');
  assert.match(sse, /event: done/);
  const done = JSON.parse(/event: done\ndata: (.*)/.exec(sse)![1]);
  assert.match(JSON.stringify(done), /llama heard: hello there/);
  assert.match(JSON.stringify(done), /"outputTokens":4/);

  const sent = chats.at(-1);
  assert.equal(sent.model, 'llama3.2', 'the provider prefix is stripped');
  assert.equal(sent.stream, true);
  assert.deepEqual(sent.messages.map((m: any) => m.role).slice(0, 1), ['system']);
  assert.match(sent.messages[0].content, /Be brief\./);
});

test("the provider's failures: an unknown model is a 404 that spares the breaker; 5xx opens it", async () => {
  const u = await k.createUser();
  await k.request('POST', '/api/agents', { token: u.token, body: { name: 'ghost', model: 'ollama/nope' } });
  failWith = 404;
  const missing = await k.request('POST', '/api/agent/message', { token: u.token, body: { agent: 'ghost', message: 'hi' } });
  assert.match(missing.text, /not found/);
  let breaker = (await k.request('GET', '/api/breaker/status')).body;
  const state = () => JSON.stringify(breaker).includes('"open"');
  assert.equal(state(), false, 'a 404 does not count against the provider');
  failWith = 500;
  for (let i = 0; i < 2; i++) await k.request('POST', '/api/agent/message', { token: u.token, body: { agent: 'ghost', message: 'hi' } });
  breaker = (await k.request('GET', '/api/breaker/status')).body;
  assert.equal(state(), true, `two 5xx open the breaker: ${JSON.stringify(breaker)}`);
  failWith = 0;
});

test('disabling the plugin unregisters the provider', async () => {
  assert.equal((await k.request('PUT', '/api/plugins/ollama-provider/toggle', { body: { enabled: false } })).status, 200);
  const models = (await k.request('GET', '/api/models/available')).body;
  assert.ok(!JSON.stringify(models).includes('ollama/'), 'no ollama models once disabled');
});
