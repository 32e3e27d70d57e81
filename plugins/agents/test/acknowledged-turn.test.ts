import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { memoryRef } from 'plinth/contracts/memory';
import { createTestKernel, mockService, sseFrames } from 'plinth/testing';

const AGENTS = join(__dirname, '..');

// Found by the chaos run of issue 15: the `message` frame (a client's acknowledgement) went out
// before the turn was recorded, so a kernel killed in between left an acknowledged message with
// no turn to mark interrupted. Here the turn is held between the two by a slow memory lookup.
test('a message is acknowledged only once its turn is recorded (running), so a crash after the ack leaves a turn to mark', async () => {
  let release!: () => void;
  const held = new Promise<void>(r => (release = r));
  const memory = { relevant: async () => { await held; return []; } } as any;
  const k = await createTestKernel({ plugins: [{ path: AGENTS }], services: [mockService(memoryRef, memory)] });
  try {
    const u = await k.createUser();
    const session = (await k.request('POST', '/api/sessions', { token: u.token, body: { agent: 'assistant' } })).body;
    const res = await fetch(`${k.baseUrl}/api/sessions/${session.id}/messages`, {
      method: 'POST', body: JSON.stringify({ message: 'hello there' }),
      headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
    });
    assert.equal(res.status, 200);
    // Bounded: the lookup is let go after 500 ms if no frame came while it was held.
    const letGo = setTimeout(release, 500);
    let turnAtAck: { status: string } | undefined | null = null;
    const events: string[] = [];
    for await (const f of sseFrames(res.body!)) {
      events.push(f.event!);
      if (f.event === 'message') {
        const turns = (await k.request('GET', `/api/sessions/${session.id}/turns`, { token: u.token })).body.items as any[];
        turnAtAck = turns.find(t => t.id === f.data.turnId);
        release();
      }
    }
    clearTimeout(letGo);
    assert.equal(events[0], 'message');
    assert.equal(events[events.length - 1], 'done');
    assert.ok(turnAtAck, 'the turn was recorded when the message frame arrived');
  } finally {
    await k.stop();
  }
});
