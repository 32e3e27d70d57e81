/**
 * Channels (issue 8) with the real agents and memory plugins: each chat answered by the builtin
 * model, and what one chat said never recalled into another chat's context.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { startFakeBotApi, type FakeApi } from '../../plugins/telegram/test/fake-bot-api';
import { plugin, waitFor } from './helpers';

const TOKEN = '123456:e2e-token';
const SECRET = 'e2e_secret';

describe('Telegram chats answered by the agents plugin with memory', () => {
  let api: FakeApi;
  let k: TestKernel;
  before(async () => {
    api = await startFakeBotApi(TOKEN);
    k = await createTestKernel({
      plugins: [
        plugin('memory'), plugin('agents'),
        plugin('channels', { defaultPolicy: 'open', delivery: { backoffBaseMs: 10, pollIntervalMs: 50 } }),
        plugin('telegram', { apiBaseUrl: api.url, botToken: TOKEN, webhookSecret: SECRET }),
      ],
    });
  });
  after(async () => { await k.stop(); await api.close(); });

  let updateId = 1;
  const say = (chat: number, text: string) => k.request('POST', '/api/webhooks/telegram', {
    token: null, headers: { 'x-telegram-bot-api-secret-token': SECRET },
    body: { update_id: updateId++, message: { message_id: updateId, date: 1441645532, chat: { id: chat, type: 'private' }, from: { id: chat, first_name: `U${chat}` }, text } },
  });
  const contextOf = async (chat: number, text: string) => {
    const inbound = await waitFor(async () => (await k.request('GET', '/api/channels/inbound?channel=telegram')).body.items.find((m: any) => m.chatId === String(chat) && m.text === text && m.state === 'done'), `chat ${chat} answered`);
    const stages = (await k.request('GET', `/api/traces/${inbound.traceId}`)).body.stages;
    const turnId = stages.find((s: any) => s.stage === 'answered').detail.turnId;
    return (await k.request('GET', `/api/turns/${turnId}/context`)).body.items[0].content as string;
  };

  test('each chat is answered at the fake Bot API by builtin/echo; one chat\'s memory never reaches another chat\'s context', async () => {
    assert.equal((await say(111, 'my locker code is pumpkin42')).status, 200);
    await waitFor(() => api.delivered.find(d => d.params.chat_id === '111' && d.params.text === 'my locker code is pumpkin42'), 'the reply to chat 111');
    await waitFor(async () => (await k.request('GET', '/api/memory/search?q=pumpkin42')).body.items.length > 0, 'the turn recorded as an episode');

    assert.equal((await say(111, 'pumpkin42?')).status, 200);
    assert.match(await contextOf(111, 'pumpkin42?'), /Relevant memory:(.|\n)*pumpkin42/, 'a chat recalls its own past');
    assert.equal((await say(222, 'pumpkin42?')).status, 200);
    await waitFor(() => api.delivered.find(d => d.params.chat_id === '222' && d.params.text === 'pumpkin42?'), 'the reply to chat 222');
    assert.ok(!(await contextOf(222, 'pumpkin42?')).includes('locker'), 'another chat does not');
  });
});
