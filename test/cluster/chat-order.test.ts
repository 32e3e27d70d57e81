import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { NGINX, startKernelCluster, until, type KernelCluster } from '../helpers/cluster';
import { startFakeBotApi, type FakeApi } from '../../plugins/telegram/test/fake-bot-api';
import { telegramMessage } from '../../plugins/telegram/test/samples';

const ROOT = join(__dirname, '..', '..');
const PG = process.env.PLINTH_TEST_POSTGRES_URL;
const skip = !PG ? 'PLINTH_TEST_POSTGRES_URL not set' : !NGINX ? 'nginx is not installed (.ci/run installs it)' : false;
const TOKEN = '123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11';
const SECRET = 'plinth_webhook_secret_1';

/**
 * Two kernels receive one Telegram chat's messages alternately (as a balancer spreads webhooks):
 * each kernel answers behind its webhook's 200, yet the chat's messages are answered one at a
 * time, in arrival order, and the replies leave in that order.
 */
describe('one chat\'s messages answered in order by two kernels', { skip }, () => {
  let cluster: KernelCluster;
  let api: FakeApi;

  before(async () => {
    api = await startFakeBotApi(TOKEN);
    cluster = await startKernelCluster({
      postgresUrl: PG!, size: 2, env: { PLINTH_EGRESS_ALLOW: '127.0.0.1' },
      plugins: () => [
        { id: 'agents', path: join(ROOT, 'plugins', 'agents') },
        { id: 'channels', path: join(ROOT, 'plugins', 'channels'), config: { defaultPolicy: 'open', delivery: { maxAttempts: 3, backoffBaseMs: 10, backoffMaxMs: 40, pollIntervalMs: 50, leaseMs: 2000 } } },
        { id: 'telegram', path: join(ROOT, 'plugins', 'telegram'), config: { apiBaseUrl: api.url, botToken: TOKEN, webhookSecret: SECRET } },
      ],
    });
  });
  after(async () => { await cluster?.stop(); await api?.close(); });

  test('messages to one chat through alternating kernels: every one answered, in order, replies sent in order', async () => {
    const N = 12;
    const texts = Array.from({ length: N }, (_, i) => `message number ${i}`);
    for (const [i, text] of texts.entries()) {
      const update = { update_id: 20_000 + i, message: { ...telegramMessage.message, message_id: 3000 + i, text } };
      const res = await fetch(`${cluster.kernels[i % 2].baseUrl}/api/webhooks/telegram`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(update),
      });
      assert.equal(res.status, 200, await res.text());
    }
    const inbound = async () => (await (await fetch(`${cluster.lb}/api/channels/inbound?channel=telegram&limit=100`, { headers: { authorization: `Bearer ${cluster.adminToken}` } })).json() as any).items;
    const done = await until(async () => { const items = await inbound(); return items.length === N && items.every((m: any) => m.state !== 'received' && m.state !== 'processing') && items; }, 60_000, 'every message finished');
    assert.deepEqual(done.map((m: any) => m.state), texts.map(() => 'done'), JSON.stringify(done.map((m: any) => [m.text, m.state, m.error])));
    await until(async () => api.delivered.filter(d => d.method === 'sendMessage').length >= N, 30_000, 'every reply sent');
    const replies = api.delivered.filter(d => d.method === 'sendMessage').map(d => d.params.text);
    assert.deepEqual(replies, texts, 'answered and sent in arrival order');
  });
});
