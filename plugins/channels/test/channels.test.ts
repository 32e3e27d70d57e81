import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestKernel } from 'plinth/testing';

const ROOT = join(__dirname, '..', '..', '..');

describe('channels with no secrets configured', () => {
  test('every adapter is active and reports "not configured"; webhooks refuse', async () => {
    const k = await createTestKernel({
      plugins: [
        { path: join(ROOT, 'plugins', 'channels') },
        { path: join(ROOT, 'plugins', 'telegram') },
        { path: join(ROOT, 'plugins', 'whatsapp') },
      ],
    });
    try {
      for (const id of ['channels', 'telegram', 'whatsapp']) assert.equal((await k.request('GET', `/api/plugins/${id}`)).body.status, 'active', id);
      const status = (await k.request('GET', '/api/channels/status')).body.channels;
      assert.deepEqual(status.map((c: any) => [c.name, c.configured]), [['telegram', false], ['whatsapp', false]]);
      assert.match(status[0].detail, /not configured/);
      assert.equal((await k.request('POST', '/api/webhooks/telegram', { token: null, body: { update_id: 1 } })).status, 503);
      assert.equal((await k.request('POST', '/api/webhooks/whatsapp', { token: null, body: {} })).status, 503);
      assert.equal((await k.request('GET', '/api/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=&hub.challenge=1', { token: null })).status, 403);
      assert.deepEqual((await k.request('GET', '/api/channels/inbound')).body.items, []);
    } finally {
      await k.stop();
    }
  });
});
