import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { startFakeBotApi, sleep, waitFor, type FakeApi } from './fake-bot-api';
import { telegramCallbackQuery, telegramEditedMessage, telegramInlineQuery, telegramMessage } from './samples';

const ROOT = join(__dirname, '..', '..', '..');
const TOKEN = '123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11';
const SECRET = 'plinth_webhook_secret_1';
const fast = { maxAttempts: 3, backoffBaseMs: 10, backoffMaxMs: 40, pollIntervalMs: 50, leaseMs: 2000 };

/** The real agents plugin answers: its default agent `assistant` on the offline builtin/echo model. */
export function channelPlugins(api: string, channelsConfig: Record<string, unknown> = {}, extra: Array<{ path: string; config?: any }> = []) {
  return [
    { path: join(ROOT, 'plugins', 'agents') },
    { path: join(ROOT, 'plugins', 'channels'), config: { defaultPolicy: 'open', delivery: fast, ...channelsConfig } },
    { path: join(ROOT, 'plugins', 'telegram'), config: { apiBaseUrl: api, botToken: TOKEN, webhookSecret: SECRET } },
    ...extra,
  ];
}

export function postUpdate(k: TestKernel, update: unknown, secret: string | null = SECRET) {
  return k.request('POST', '/api/webhooks/telegram', {
    token: null, body: update, headers: secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret },
  });
}

const withId = (u: any, id: number) => ({ ...u, update_id: id });
/** Turns the agent runtime finished, all users (the admin's view of the stats). */
export async function turnCount(k: TestKernel): Promise<number> {
  return (await k.request('GET', '/api/stats/costs')).body.total.turns;
}
async function answeredStage(k: TestKernel, traceId: string) {
  const t = (await k.request('GET', `/api/traces/${traceId}`)).body;
  return t.stages?.find((s: any) => s.stage === 'answered');
}
const dialects = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] as const : ['sqlite'] as const;

for (const database of dialects) {
  describe(`telegram channel (${database})`, () => {
    let api: FakeApi;
    let k: TestKernel;
    before(async () => {
      api = await startFakeBotApi(TOKEN);
      k = await createTestKernel({ database, plugins: channelPlugins(api.url) });
    });
    after(async () => { await k.stop(); await api.close(); });

    test('wrong or missing secret: 401, nothing stored, nothing sent', async () => {
      for (const secret of [null, 'wrong', SECRET + 'x', '']) {
        const r = await postUpdate(k, withId(telegramMessage, 1), secret);
        assert.equal(r.status, 401, `secret ${secret}`);
        assert.equal(r.body.error.code, 'PLINTH_ERR_WEBHOOK_SECRET');
      }
      await sleep(100);
      assert.deepEqual((await k.request('GET', '/api/channels/inbound')).body.items, []);
      assert.equal(api.received.length, 0);
    });

    test("the documentation's sample message is answered by the agent at the fake Bot API, with a full trace", async () => {
      const r = await postUpdate(k, telegramMessage);
      assert.equal(r.status, 200);
      const sent = await waitFor(() => api.delivered.find(d => d.params.text === '/start'), 'the reply');
      assert.equal(sent.method, 'sendMessage');
      assert.equal(sent.params.chat_id, '1111111');
      assert.deepEqual(sent.params.reply_parameters, { message_id: 1365, allow_sending_without_reply: true });
      const [inbound] = (await k.request('GET', '/api/channels/inbound?channel=telegram')).body.items;
      assert.equal(inbound.dedupeKey, 'update:10000');
      assert.equal(inbound.senderName, 'Test Test Lastname');
      const trace = await waitFor(async () => {
        const t = (await k.request('GET', `/api/traces/${inbound.traceId}`)).body;
        return t.stages?.some((s: any) => s.stage === 'sent') ? t : undefined;
      }, 'the sent stage');
      assert.deepEqual(trace.stages.map((s: any) => s.stage), ['received', 'verified', 'routed', 'answered', 'queued', 'sent']);
      assert.equal(trace.deliveries[0].state, 'sent');
      assert.ok(trace.stages.every((s: any) => !Number.isNaN(Date.parse(s.at))));
      const answered = await answeredStage(k, inbound.traceId);
      const turn = (await k.request('GET', `/api/turns/${answered.detail.turnId}`)).body;
      assert.equal(turn.via, 'channel:telegram');
      assert.equal(turn.agent, 'assistant');
      assert.equal(turn.model, 'builtin/echo');
      assert.equal(turn.owner, 'channel:telegram:1111111', 'a principal per chat');
      assert.equal((await k.request('GET', '/api/traces/trc_nope')).status, 404);
      assert.equal((await k.request('GET', `/api/traces/${inbound.traceId}`, { token: (await k.createUser()).token })).status, 404);
    });

    test('a duplicate update (Telegram retrying) is answered once, even when the copies arrive together', async () => {
      const before = api.delivered.length;
      const update = { ...withId(telegramMessage, 20001), message: { ...telegramMessage.message, message_id: 2001, text: 'once' } };
      const answers = await Promise.all([postUpdate(k, update), postUpdate(k, update), postUpdate(k, update)]);
      assert.deepEqual(answers.map(a => a.status), [200, 200, 200]);
      await waitFor(() => api.delivered.some(d => d.params.text === 'once'), 'the reply');
      assert.equal((await postUpdate(k, update)).status, 200);
      await sleep(300);
      assert.equal(api.delivered.filter(d => d.params.text === 'once').length, 1);
      assert.equal(api.delivered.length, before + 1);
    });

    test('edits are processed, other update kinds acknowledged and ignored, one session per chat', async () => {
      assert.equal((await postUpdate(k, withId(telegramEditedMessage, 20002))).status, 200);
      await waitFor(() => api.delivered.some(d => d.params.text === '(edited) Edited text'), 'the edit reply');
      const stored = (await k.request('GET', '/api/channels/inbound')).body.items.length;
      assert.equal((await postUpdate(k, withId(telegramInlineQuery, 20003))).status, 200);
      assert.equal((await postUpdate(k, { update_id: 20004, message: { message_id: 9, chat: { id: 1111111 }, photo: [] } })).status, 200);
      assert.equal((await k.request('GET', '/api/channels/inbound')).body.items.length, stored);
      const inbound = (await k.request('GET', '/api/channels/inbound?channel=telegram')).body.items;
      const sessionIds = new Set<string>();
      for (const m of inbound) {
        const answered = await answeredStage(k, m.traceId);
        if (answered) sessionIds.add(answered.detail.sessionId);
      }
      assert.equal(sessionIds.size, 1, 'the chat keeps one session');
    });

    test('a reply longer than 4,096 characters is split into parts sent in order', async () => {
      const long = 'word '.repeat(1000).trim(); // echoed back: 4,999 characters
      const update = { ...withId(telegramMessage, 20005), message: { ...telegramMessage.message, message_id: 2005, text: long } };
      await postUpdate(k, update);
      const parts = await waitFor(() => {
        const p = api.delivered.filter(d => d.params.chat_id === '1111111' && d.params.text.startsWith('word'));
        return p.length >= 2 ? p : undefined;
      }, 'two parts');
      assert.ok(parts.every(p => p.params.text.length <= 4096));
      assert.equal(parts.map(p => p.params.text).join(''), long);
      assert.ok(parts[0].params.reply_parameters && !parts[1].params.reply_parameters);
    });

    test('the API failing: retries, dead letter, replay delivers exactly once more', async () => {
      api.fail({ kind: '500' });
      const update = { ...withId(telegramMessage, 20006), message: { ...telegramMessage.message, message_id: 2006, text: 'doomed' } };
      await postUpdate(k, update);
      const dead = await waitFor(async () => (await k.request('GET', '/api/channels/dead-letter')).body.items.find((d: any) => d.text === 'doomed'), 'the dead letter');
      assert.equal(dead.attempts, 3);
      assert.match(dead.lastError, /500 Internal Server Error/);
      assert.equal(api.received.filter(r => r.params.text === 'doomed').length, 3);
      const trace = (await k.request('GET', `/api/traces/${dead.traceId}`)).body;
      assert.deepEqual(trace.stages.filter((s: any) => s.subject === dead.id).map((s: any) => s.stage), ['queued', 'failed', 'failed', 'failed', 'dead-lettered']);
      assert.ok(trace.stages.find((s: any) => s.stage === 'failed').error);

      api.heal();
      const replays = await Promise.all([1, 2, 3].map(() => k.request('POST', `/api/channels/dead-letter/${dead.id}/replay`)));
      assert.deepEqual(replays.map(r => r.status).sort(), [202, 409, 409]);
      await waitFor(() => api.delivered.some(d => d.params.text === 'doomed'), 'the replayed delivery');
      assert.equal((await k.request('POST', `/api/channels/dead-letter/${dead.id}/replay`)).status, 409);
      await sleep(300);
      assert.equal(api.delivered.filter(d => d.params.text === 'doomed').length, 1);
      assert.equal((await k.request('POST', '/api/channels/dead-letter/dlv_missing/replay')).status, 404);
      assert.equal((await k.request('POST', '/api/channels/dead-letter/bad%20id/replay')).status, 400);
      const status = (await k.request('GET', '/api/channels/status')).body.channels.find((c: any) => c.name === 'telegram');
      assert.equal(status.configured, true);
      assert.ok(status.failures >= 3);
      assert.ok(status.lastInboundAt && status.lastOutboundAt);
    });
  });
}

describe('telegram channel: rate limits, set-webhook, senders, approvals', () => {
  let api: FakeApi;
  let k: TestKernel;
  before(async () => {
    api = await startFakeBotApi(TOKEN);
    k = await createTestKernel({
      plugins: channelPlugins(api.url, { defaultPolicy: 'pairing', channels: { telegram: { allow: ['1111111'] } }, approvals: { channel: 'telegram', chatId: '1111111' } },
        [{ path: join(__dirname, 'fixtures', 'approvals') }]),
    });
  });
  after(async () => { await k.stop(); await api.close(); });

  test('429 with retry_after: the next attempt waits that long', async () => {
    api.fail({ kind: '429', retryAfter: 1 }, 1);
    await postUpdate(k, { ...withId(telegramMessage, 30001), message: { ...telegramMessage.message, text: 'slow down' } });
    const ok = await waitFor(() => api.delivered.find(d => d.params.text === 'slow down'), 'the retried reply', 5000);
    const limited = api.received.find(r => r.status === 429)!;
    assert.ok(ok.at - limited.at >= 950, `retried after ${ok.at - limited.at} ms`);
  });

  test('set-webhook calls setWebhook with the URL and the secret; needs an admin and a URL', async () => {
    const r = await k.request('POST', '/api/channels/telegram/set-webhook', { body: { url: 'https://bot.example.com/api/webhooks/telegram' } });
    assert.equal(r.status, 200);
    const call = api.delivered.find(d => d.method === 'setWebhook')!;
    assert.equal(call.params.url, 'https://bot.example.com/api/webhooks/telegram');
    assert.equal(call.params.secret_token, SECRET);
    assert.equal((await k.request('POST', '/api/channels/telegram/set-webhook', { body: {} })).status, 400);
    assert.equal((await k.request('POST', '/api/channels/telegram/set-webhook', { body: { url: 'not a url' } })).status, 400);
    assert.equal((await k.request('POST', '/api/channels/telegram/set-webhook', { token: null, body: { url: 'https://x.example' } })).status, 401);
  });

  test('an unknown sender gets one pairing code; once approved, it is answered', async () => {
    const stranger = (id: number, text: string) => ({ update_id: id, message: { message_id: id, date: 1441645532, chat: { id: 2222222, type: 'private' }, from: { id: 2222222, first_name: 'Eve' }, text } });
    const turnsBefore = await turnCount(k);
    await postUpdate(k, stranger(30010, 'hello?'));
    const codeMsg = await waitFor(() => api.delivered.find(d => d.params.chat_id === '2222222'), 'the pairing code');
    const code = /pairing code is ([A-Z0-9]+)/.exec(codeMsg.params.text)![1];
    await postUpdate(k, stranger(30011, 'hello again?'));
    await sleep(200);
    assert.equal(api.delivered.filter(d => d.params.chat_id === '2222222').length, 1, 'no second code, no answer');
    assert.equal(await turnCount(k), turnsBefore, 'no turn ran for the stranger');
    assert.equal((await k.request('POST', `/api/channels/pairings/${code}/approve`)).status, 200);
    assert.equal((await k.request('POST', `/api/channels/pairings/${code}/approve`)).status, 409);
    assert.equal((await k.request('POST', '/api/channels/pairings/ZZZZZZZZ/approve')).status, 404);
    await postUpdate(k, stranger(30012, 'paired now'));
    await waitFor(() => api.delivered.find(d => d.params.text === 'paired now'), 'the answer after pairing');
  });

  test('approval requests are pushed with inline buttons and decided by the callback query', async () => {
    const req = (await k.request('POST', '/api/approvals/requests', { body: { tool: 'shell.run', input: { cmd: 'rm -rf /tmp/x' } } })).body;
    const prompt = await waitFor(() => api.delivered.find(d => d.params.reply_markup), 'the approval prompt');
    assert.equal(prompt.params.chat_id, '1111111');
    assert.match(prompt.params.text, /Approval needed: shell\.run/);
    const buttons = prompt.params.reply_markup.inline_keyboard[0];
    assert.deepEqual(buttons.map((b: any) => b.text), ['Approve', 'Deny']);
    assert.equal(buttons[0].callback_data, `approval:${req.id}:approve`);

    const press = { ...telegramCallbackQuery, update_id: 30020, callback_query: { ...telegramCallbackQuery.callback_query, data: buttons[0].callback_data, message: { message_id: 77, chat: { id: 1111111, type: 'private' } } } };
    assert.equal((await postUpdate(k, press)).status, 200);
    await waitFor(() => api.delivered.find(d => d.params.text === 'Approved: shell.run'), 'the confirmation');
    assert.equal((await k.request('GET', `/api/approvals/requests/${req.id}`)).body.state, 'approved');
    assert.ok(api.delivered.some(d => d.method === 'answerCallbackQuery' && d.params.callback_query_id === telegramCallbackQuery.callback_query.id));
    // The documentation's sample callback (not an approval button) goes to the agent like a message.
    await postUpdate(k, { ...telegramCallbackQuery, update_id: 30021 });
    await waitFor(() => api.delivered.find(d => d.params.text === 'Data from button callback'), 'the callback answered by the agent');
  });
});

describe('telegram channel: restart', () => {
  test('deliveries queued when the kernel stops are delivered after the next start', async () => {
    const api = await startFakeBotApi(TOKEN);
    let k1: TestKernel | undefined, k2: TestKernel | undefined;
    let dataDir: string | undefined;
    try {
      k1 = await createTestKernel({ keepData: true, plugins: channelPlugins(api.url) });
      dataDir = k1.dataDir;
      api.fail({ kind: '429', retryAfter: 2 }, 1);
      await postUpdate(k1, { ...telegramMessage, message: { ...telegramMessage.message, text: 'survive' } });
      await waitFor(() => api.received.some(r => r.status === 429), 'the first, rate-limited attempt');
      await sleep(100);
      const status = (await k1.request('GET', '/api/channels/status')).body.channels.find((c: any) => c.name === 'telegram');
      assert.equal(status.deliveries.queued, 1);
      await k1.stop();
      k1 = undefined;
      assert.equal(api.delivered.length, 0);
      k2 = await createTestKernel({ dataDir, plugins: channelPlugins(api.url) });
      const sent = await waitFor(() => api.delivered.find(d => d.params.text === 'survive'), 'the delivery after restart', 6000);
      assert.equal(sent.params.chat_id, '1111111');
      await sleep(200);
      assert.equal(api.delivered.length, 1);
      assert.equal(await turnCount(k2), 1, 'the turn ran before the restart, not again');
    } finally {
      await k1?.stop();
      await k2?.stop();
      await api.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
