import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';

const ROOT = join(__dirname, '..', '..', '..');
const SECRET = 'example-signing-secret';
let k: TestKernel;
let receiver: Server;
const got: any[] = [];
let failNext = 0;

before(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', c => (body += c));
    req.on('end', () => {
      if (failNext > 0) { failNext--; res.writeHead(503).end(); return; }
      got.push(JSON.parse(body));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `out-${got.length}` }));
    });
  });
  await new Promise<void>(r => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/inbox`;
  k = await createTestKernel({
    plugins: [
      // The real agents plugin answers, on its offline builtin/echo model.
      { path: join(ROOT, 'plugins', 'agents') },
      { path: join(ROOT, 'plugins', 'channels'), config: { defaultPolicy: 'open', delivery: { backoffBaseMs: 10, pollIntervalMs: 50 } } },
      { path: join(__dirname, '..'), config: { signingSecret: SECRET, outboundUrl: url } },
    ],
  });
});
after(async () => { await k.stop(); receiver.closeAllConnections(); await new Promise(r => receiver.close(r)); });

const post = (body: unknown, secret = SECRET) => {
  const raw = JSON.stringify(body);
  return k.request('POST', '/api/webhooks/webhook-chat', { token: null, raw, headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', secret).update(raw).digest('hex') } });
};

test('a third-party channel built on the SDK contract alone: verified, deduped, answered, retried', async () => {
  assert.equal((await post({ id: 'm1', chat: 'room-1', text: 'hi' }, 'wrong-secret')).status, 401);
  failNext = 1;
  const first = await post({ id: 'm1', chat: 'room-1', text: 'hi' });
  assert.deepEqual(first.body, { accepted: 1, duplicates: 0 });
  assert.deepEqual((await post({ id: 'm1', chat: 'room-1', text: 'hi' })).body, { accepted: 0, duplicates: 1 });
  const until = Date.now() + 5000;
  while (!got.length && Date.now() < until) await new Promise(r => setTimeout(r, 20));
  assert.deepEqual(got, [{ chat: 'room-1', text: 'hi', replyTo: 'm1' }]);
  const status = (await k.request('GET', '/api/channels/status')).body.channels.find((c: any) => c.name === 'webhook-chat');
  assert.equal(status.configured, true);
  assert.equal(status.failures, 1, 'the first attempt failed and was retried');
});
