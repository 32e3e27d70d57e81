/**
 * A2A against the real agents plugin (issue 7: "a task is an agent session turn"): the SDK's
 * ClientFactory client, tasks that are turns of real sessions, and a cancel that aborts a turn
 * streaming from a slow fake upstream.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState } from '@a2a-js/sdk';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { startFakeOpenAi, type FakeOpenAi } from 'plinth/testing';
import { clientFor, message, partsText, taskOf } from './a2a-client';
import { plugin, waitFor } from './helpers';

describe('A2A tasks as turns of the real agent runtime', () => {
  let k: TestKernel;
  let upstream: FakeOpenAi;
  let u: { token: string; user: { id: string } };
  before(async () => {
    upstream = await startFakeOpenAi();
    k = await createTestKernel({ plugins: [plugin('agents', { defaultModel: 'builtin/echo', openai: { baseUrl: upstream.baseUrl, model: 'fake-model' } }), plugin('a2a')] });
    u = await k.createUser();
    // A shared agent on the (slow) fake upstream, for the cancel test.
    assert.equal((await k.request('POST', '/api/agents', { body: { name: 'slowpoke', model: 'openai/fake-model', instructions: 'Take your time.' } })).status, 201);
  });
  after(async () => { await k.stop(); await upstream.close(); });

  const sessionsOf = async (token: string) => (await k.request('GET', '/api/sessions', { token })).body.items;
  const messagesOf = async (id: string, token: string) => (await k.request('GET', `/api/sessions/${id}/messages`, { token })).body.items;

  test('the card lists the shared agents as skills', async () => {
    const card = (await k.request('GET', '/.well-known/agent-card.json', { token: null })).body;
    assert.deepEqual(card.skills.map((s: any) => s.id).sort(), ['assistant', 'slowpoke']);
  });

  test('sendMessage is a turn of a real session owned by the caller; the same context continues that session; getTask finds it', async () => {
    const client = await clientFor(k.baseUrl, u.token);
    const task = taskOf(await client.sendMessage(message('hello over a2a')));
    assert.equal(task.status.state, TaskState.TASK_STATE_COMPLETED);
    assert.equal(partsText(task.status.message.parts), 'hello over a2a', 'builtin/echo answered');
    assert.equal(partsText(task.artifacts[0].parts), 'hello over a2a');

    const [session] = await sessionsOf(u.token);
    assert.ok(session, 'the task made a session of the caller');
    assert.equal(session.via, 'a2a');
    assert.equal(session.agent_name, 'assistant');
    const again = taskOf(await client.sendMessage({ message: { ...message('and more').message, contextId: task.contextId } } as any));
    assert.equal(partsText(again.status.message.parts), 'and more');
    assert.equal((await sessionsOf(u.token)).length, 1, 'one A2A context is one session');
    const msgs = await messagesOf(session.id, u.token);
    assert.deepEqual(msgs.map((m: any) => [m.role, m.content, m.partial]), [
      ['user', 'hello over a2a', false], ['assistant', 'hello over a2a', false], ['user', 'and more', false], ['assistant', 'and more', false],
    ]);
    const turns = (await k.request('GET', `/api/sessions/${session.id}/turns`, { token: u.token })).body.items;
    assert.deepEqual(turns.map((t: any) => [t.via, t.status, t.model]), [['a2a', 'ok', 'builtin/echo'], ['a2a', 'ok', 'builtin/echo']]);

    const got = await client.getTask({ id: task.id } as any);
    assert.equal((got as any).id, task.id);
    const stranger = await k.createUser();
    await assert.rejects((await clientFor(k.baseUrl, stranger.token)).getTask({ id: task.id } as any), /not found/i);
    assert.deepEqual(await sessionsOf(stranger.token), []);
  });

  test('sendMessageStream streams the builtin model\'s words as artifact chunks, then completed', async () => {
    const client = await clientFor(k.baseUrl, u.token);
    let streamed = '';
    const kinds: string[] = [];
    let final: number | undefined;
    for await (const ev of client.sendMessageStream(message('one two three four')) as AsyncIterable<any>) {
      const kind = ev.payload?.$case ?? ev.kind;
      kinds.push(kind);
      const v = ev.payload?.value ?? ev;
      if (kind === 'artifactUpdate') streamed += partsText(v.artifact.parts);
      if (kind === 'statusUpdate') final = v.status.state;
    }
    assert.equal(kinds[0], 'task');
    assert.equal(kinds.filter(x => x === 'artifactUpdate').length, 4, kinds.join(','));
    assert.equal(streamed, 'one two three four');
    assert.equal(final, TaskState.TASK_STATE_COMPLETED);
  });

  test('cancelTask aborts the turn upstream; the partial answer is stored and marked; the session stays usable', async () => {
    const client = await clientFor(k.baseUrl, u.token);
    upstream.script({ stall: ['Once ', 'upon ', 'a ', 'time'] });
    const abortedBefore = upstream.aborted;
    const stream = client.sendMessageStream(message('tell me a story', { metadata: { agent: 'slowpoke' } }))[Symbol.asyncIterator]();
    const first = taskOf((await stream.next()).value);
    let words = 0;
    while (words < 4) {
      const ev: any = (await stream.next()).value;
      if ((ev.payload?.$case ?? ev.kind) === 'artifactUpdate') words++;
    }
    const canceled: any = await client.cancelTask({ id: first.id } as any);
    assert.equal(canceled.status.state, TaskState.TASK_STATE_CANCELED);
    await stream.return?.(undefined);
    await waitFor(() => upstream.aborted > abortedBefore, 'the upstream request aborted');

    const session = (await sessionsOf(u.token)).find((s: any) => s.agent_name === 'slowpoke');
    const msgs = await waitFor(async () => {
      const m = await messagesOf(session.id, u.token);
      return m.some((x: any) => x.role === 'assistant' && x.content === 'Once upon a time') ? m : undefined;
    }, 'the partial answer stored');
    assert.deepEqual(msgs.map((m: any) => [m.role, m.content, m.partial]), [['user', 'tell me a story', false], ['assistant', 'Once upon a time', true]]);
    const [turn] = (await k.request('GET', `/api/sessions/${session.id}/turns`, { token: u.token })).body.items;
    assert.equal(turn.status, 'partial');
    assert.equal(((await client.getTask({ id: first.id } as any)) as any).status.state, TaskState.TASK_STATE_CANCELED);

    upstream.script({ text: ['The ', 'end.'] });
    const next = taskOf(await client.sendMessage({ message: { ...message('finish it', { metadata: { agent: 'slowpoke' } }).message, contextId: first.contextId } } as any));
    assert.equal(partsText(next.status.message.parts), 'The end.');
    const sent = upstream.requests.at(-1);
    assert.deepEqual(sent.messages.slice(1).map((m: any) => [m.role, m.content]), [['user', 'tell me a story'], ['assistant', 'Once upon a time'], ['user', 'finish it']]);
  });
});
