import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { startFakeGraphApi, sleep, waitFor, type FakeApi } from './fake-graph-api';
import { whatsappStatus, whatsappText } from './samples';

const ROOT = join(__dirname, '..', '..', '..');
const APP_SECRET = 'meta_app_secret_abc';
const VERIFY = 'my-verify-token';
const ACCESS = 'EAAG-fake-access-token';
const PHONE_ID = '106540352242922';

const sign = (body: string | Buffer) => 'sha256=' + createHmac('sha256', APP_SECRET).update(body).digest('hex');
/** Meta's way: the HMAC over the payload with non-ASCII escaped as lowercase \\uXXXX. */
const signEscaped = (body: string) => sign(body.replace(/[\u0080-\uffff]/g, c => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')));

function post(k: TestKernel, raw: string, signature?: string) {
  return k.request('POST', '/api/webhooks/whatsapp', {
    token: null, raw, headers: { 'content-type': 'application/json', ...(signature ? { 'x-hub-signature-256': signature } : {}) },
  });
}

describe('whatsapp channel', () => {
  let graph: FakeApi;
  let k: TestKernel;
  before(async () => {
    graph = await startFakeGraphApi(ACCESS, PHONE_ID);
    k = await createTestKernel({
      plugins: [
        { path: join(ROOT, 'plugins', 'agents') },
        { path: join(ROOT, 'plugins', 'channels'), config: { defaultPolicy: 'allowlist', channels: { whatsapp: { allow: ['PHONE_NUMBER', '4915112345678'] } }, delivery: { backoffBaseMs: 10, pollIntervalMs: 50, maxAttempts: 3 } } },
        { path: join(ROOT, 'plugins', 'whatsapp'), config: { graphBaseUrl: graph.url, apiVersion: 'v21.0', phoneNumberId: PHONE_ID, accessToken: ACCESS, appSecret: APP_SECRET, verifyToken: VERIFY } },
      ],
    });
  });
  after(async () => { await k.stop(); await graph.close(); });

  test('the subscription handshake answers the challenge as text, anything else 403', async () => {
    const ok = await k.request('GET', `/api/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=1158201444`, { token: null });
    assert.equal(ok.status, 200);
    assert.equal(ok.text, '1158201444');
    assert.match(ok.headers.get('content-type')!, /text\/plain/);
    for (const q of [`hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`, `hub.mode=unsubscribe&hub.verify_token=${VERIFY}&hub.challenge=1`, `hub.mode=subscribe&hub.challenge=1`, '']) {
      assert.equal((await k.request('GET', `/api/webhooks/whatsapp?${q}`, { token: null })).status, 403, q);
    }
  });

  test('bad or missing signatures: 401 and nothing stored', async () => {
    const raw = JSON.stringify(whatsappText);
    for (const sig of [undefined, 'sha256=' + '0'.repeat(64), sign(raw + ' '), 'sha1=' + 'a'.repeat(40), sign(raw).replace('sha256=', ''), createHmac('sha256', 'other').update(raw).digest('hex')]) {
      const r = await post(k, raw, sig);
      assert.equal(r.status, 401, String(sig));
    }
    await sleep(100);
    assert.deepEqual((await k.request('GET', '/api/channels/inbound?channel=whatsapp')).body.items, []);
    assert.equal(graph.received.length, 0);
  });

  test("the documentation's sample text is answered through the Graph API; the status update lands in the trace", async () => {
    const raw = JSON.stringify(whatsappText);
    assert.equal((await post(k, raw, sign(raw))).status, 200);
    assert.equal((await post(k, raw, sign(raw))).status, 200, 'a retried notification is acknowledged');
    const sent = await waitFor(() => graph.delivered.find(d => d.params.text?.body === 'MESSAGE_BODY'), 'the reply');
    assert.deepEqual({ ...sent.params, id: undefined }, {
      messaging_product: 'whatsapp', recipient_type: 'individual', to: 'PHONE_NUMBER', type: 'text',
      text: { preview_url: false, body: 'MESSAGE_BODY' }, context: { message_id: 'wamid.ID' }, id: undefined,
    });
    await sleep(200);
    assert.equal(graph.delivered.length, 1, 'answered once');

    const [inbound] = (await k.request('GET', '/api/channels/inbound?channel=whatsapp')).body.items;
    assert.equal(inbound.senderName, 'NAME');
    for (const status of ['sent', 'delivered', 'read']) {
      const body = JSON.stringify(whatsappStatus(sent.params.id, status));
      assert.equal((await post(k, body, sign(body))).status, 200);
    }
    const failed = whatsappStatus(sent.params.id, 'failed') as any;
    failed.entry[0].changes[0].value.statuses[0].errors = [{ code: 131047, title: 'Re-engagement message' }];
    const fbody = JSON.stringify(failed);
    await post(k, fbody, sign(fbody));
    const trace = (await k.request('GET', `/api/traces/${inbound.traceId}`)).body;
    const stages = trace.stages.map((s: any) => s.stage);
    assert.deepEqual(stages.slice(-5), ['sent', 'sent', 'delivered', 'read', 'failed']);
    assert.equal(trace.stages.at(-1).error, '131047 Re-engagement message');
  });

  test('a body with non-ASCII text signed the way Meta signs it (escaped unicode) is accepted; so are the raw bytes', async () => {
    const msg = structuredClone(whatsappText) as any;
    msg.entry[0].changes[0].value.messages[0] = { from: '4915112345678', id: 'wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFjNFQjBDMEE', timestamp: '1700000000', text: { body: 'Grüße, 東京 🚀' }, type: 'text' };
    msg.entry[0].changes[0].value.contacts = [{ profile: { name: 'Zoë' }, wa_id: '4915112345678' }];
    const raw = JSON.stringify(msg);
    assert.notEqual(sign(raw), signEscaped(raw));
    assert.equal((await post(k, raw, signEscaped(raw))).status, 200);
    await waitFor(() => graph.delivered.find(d => d.params.text?.body === 'Grüße, 東京 🚀'), 'the non-ASCII reply');
    msg.entry[0].changes[0].value.messages[0].id = 'wamid.second';
    const raw2 = JSON.stringify(msg);
    assert.equal((await post(k, raw2, sign(raw2))).status, 200);
    // A signature over the escaped form of a different body still fails.
    msg.entry[0].changes[0].value.messages[0].id = 'wamid.third';
    assert.equal((await post(k, JSON.stringify(msg), signEscaped(raw2))).status, 401);
    await waitFor(async () => (await k.request('GET', '/api/stats/costs')).body.total.turns === 3, 'three turns');
    // The second reply is still on its way when the turn is counted; the next test counts sends.
    await waitFor(() => graph.delivered.filter(d => d.params.text?.body === 'Grüße, 東京 🚀').length === 2, 'the second reply');
  });

  test('a sender outside the allowlist gets nothing', async () => {
    const msg = structuredClone(whatsappText) as any;
    msg.entry[0].changes[0].value.messages[0].from = '15550000000';
    msg.entry[0].changes[0].value.messages[0].id = 'wamid.stranger';
    const raw = JSON.stringify(msg);
    const before = graph.received.length;
    assert.equal((await post(k, raw, sign(raw))).status, 200);
    const inbound = await waitFor(async () => (await k.request('GET', '/api/channels/inbound?channel=whatsapp')).body.items.find((m: any) => m.senderId === '15550000000' && m.state === 'ignored'), 'the rejection');
    const trace = (await k.request('GET', `/api/traces/${inbound.traceId}`)).body;
    assert.equal(trace.stages.at(-1).stage, 'rejected');
    assert.equal(graph.received.length, before);
  });
});
