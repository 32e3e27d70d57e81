/**
 * `GET /metrics` over real HTTP with the plugins that contribute to it (issue 15): jobs by state
 * and deliveries by state come from the jobs and channels plugins through the kernel's
 * `core.metrics`, beside the kernel's own figures (events, plugin states, reloads, the pool).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestKernel, parsePrometheusText, samplesOf, valueOf, type TestKernel } from 'plinth/testing';
import { startFakeBotApi, type FakeApi } from '../../plugins/telegram/test/fake-bot-api';
import { dialects, plugin, waitFor } from './helpers';

const TOKEN = '123456:metrics-token';
const SECRET = 'metrics_secret';

for (const database of dialects) {
  describe(`GET /metrics with jobs and channels (${database})`, () => {
    let api: FakeApi;
    let k: TestKernel;
    before(async () => {
      api = await startFakeBotApi(TOKEN);
      k = await createTestKernel({
        database,
        plugins: [
          plugin('agents'),
          plugin('jobs', { pollMs: 50, defaultMaxRetries: 0, allowUserCommands: true }),
          plugin('channels', { defaultPolicy: 'open', delivery: { maxAttempts: 2, backoffBaseMs: 10, backoffMaxMs: 40, pollIntervalMs: 50 } }),
          plugin('telegram', { apiBaseUrl: api.url, botToken: TOKEN, webhookSecret: SECRET }),
          plugin('observability'),
        ],
      });
    });
    after(async () => { await k.stop(); await api.close(); });

    const scrape = async () => {
      const res = await k.request('GET', '/metrics', { token: null });
      assert.equal(res.status, 200, res.text);
      return parsePrometheusText(res.text);
    };
    let update = 1;
    const say = (text: string) => k.request('POST', '/api/webhooks/telegram', {
      token: null, headers: { 'x-telegram-bot-api-secret-token': SECRET },
      body: { update_id: update++, message: { message_id: update, date: 1441645532, chat: { id: 4242, type: 'private' }, from: { id: 4242, first_name: 'M' }, text } },
    });
    const job = async (body: Record<string, unknown>) => {
      const r = await k.request('POST', '/api/jobs', { body });
      assert.equal(r.status, 201, r.text);
      return r.body.id as string;
    };
    const stateOf = async (id: string) => (await k.request('GET', `/api/jobs/${id}`)).body.job.state as string;

    test('jobs by state, deliveries by state, events, plugin states and the pool, as strict Prometheus text', async () => {
      let jobEvents = 0;
      const unsubscribe = k.events.subscribe('job.*', () => { jobEvents++; });
      const done = await job({ kind: 'command', request: { command: 'echo ok' } });
      const failed = await job({ kind: 'command', request: { command: 'exit 3' } });
      const later = await job({ kind: 'command', request: { command: 'echo later' }, delay_ms: 3_600_000 });
      const child = await job({ kind: 'command', request: { command: 'echo child' }, parents: [later] });
      const cancelled = await job({ kind: 'command', request: { command: 'echo never' }, delay_ms: 3_600_000 });
      assert.equal((await k.request('POST', `/api/jobs/${cancelled}/cancel`)).status, 200);
      await waitFor(async () => await stateOf(done) === 'done' && await stateOf(failed) === 'failed', 'the two command jobs finished');
      assert.deepEqual([await stateOf(later), await stateOf(child)], ['ready', 'queued'], 'waiting for its time; waiting for its parent');

      assert.equal((await say('hello')).status, 200);
      const sent = async () => samplesOf(await scrape(), 'plinth_channels_deliveries', { state: 'sent' })[0]?.value === 1;
      await waitFor(sent, 'the answer sent');
      api.fail({ kind: '500' });
      assert.equal((await say('doomed')).status, 200);
      await waitFor(async () => (await k.request('GET', '/api/channels/dead-letter')).body.items.length === 1, 'the dead letter');
      api.heal();

      const m = await scrape();
      assert.equal(m.types.get('plinth_jobs'), 'gauge');
      const jobs = Object.fromEntries(samplesOf(m, 'plinth_jobs').map(s => [s.labels.state, s.value]));
      assert.deepEqual(jobs, { queued: 1, ready: 1, running: 0, blocked: 0, done: 1, failed: 1, cancelled: 1, archived: 0 });
      assert.match(samplesOf(m, 'plinth_jobs')[0].labels.node, /^node_/, 'contributed metrics carry the node label too');
      assert.equal(valueOf(m, 'plinth_channels_deliveries', { channel: 'telegram', state: 'sent' }), 1);
      assert.equal(valueOf(m, 'plinth_channels_deliveries', { channel: 'telegram', state: 'dead' }), 1);
      assert.equal(valueOf(m, 'plinth_channels_deliveries', { channel: 'telegram', state: 'queued' }), 0, 'every state, zeros included');
      await unsubscribe();
      assert.ok(jobEvents >= 5);
      assert.equal(valueOf(m, 'plinth_events_total', { kind: 'published', source: 'job' }), jobEvents, 'every job.* event published, as a subscriber saw them');
      assert.ok(valueOf(m, 'plinth_events_total', { kind: 'delivered', source: 'all' }) >= jobEvents);
      assert.equal(valueOf(m, 'plinth_plugins', { state: 'active' }), 5);
      assert.equal(valueOf(m, 'plinth_plugin_reloads', { plugin: 'jobs' }), 0);
      assert.ok(valueOf(m, 'plinth_http_requests_total', { method: 'POST', route: '/api/jobs', status: '201' }) >= 5);
      if (database === 'postgres') {
        assert.ok(valueOf(m, 'plinth_db_pool_connections', { state: 'total' }) >= 1);
        assert.ok(valueOf(m, 'plinth_db_pool_connections', { state: 'waiting' }) >= 0);
      } else {
        assert.deepEqual(samplesOf(m, 'plinth_db_pool_connections'), [], 'SQLite has no pool');
      }
    });

    test('a reloaded plugin\'s metric is listed once, by its new generation; a disabled one\'s goes, and comes back', async () => {
      assert.equal((await k.request('POST', '/api/plugins/jobs/reload')).status, 200);
      let m = await scrape();
      assert.equal(valueOf(m, 'plinth_plugin_reloads', { plugin: 'jobs' }), 1);
      assert.equal(valueOf(m, 'plinth_jobs', { state: 'done' }), 1, 'one plinth_jobs family, not one per generation');
      assert.equal(m.types.get('plinth_jobs'), 'gauge');

      assert.equal((await k.request('PUT', '/api/plugins/channels/toggle', { body: { enabled: false } })).status, 200);
      m = await scrape();
      assert.deepEqual(samplesOf(m, 'plinth_channels_deliveries'), []);
      assert.equal(m.types.has('plinth_channels_deliveries'), false);
      assert.equal(valueOf(m, 'plinth_plugins', { state: 'disabled' }), 1);
      assert.equal((await k.request('PUT', '/api/plugins/channels/toggle', { body: { enabled: true } })).status, 200);
      m = await scrape();
      assert.equal(valueOf(m, 'plinth_channels_deliveries', { channel: 'telegram', state: 'dead' }), 1);
    });
  });
}
