import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createTestKernel, sseFrames, type SseFrame, type TestKernel } from 'plinth/testing';

const NOTES = join(__dirname, '..', 'fixtures', 'notes');

function openWs(url: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; next(pred?: (m: any) => boolean): Promise<any> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const queue: any[] = [];
    const waiters: Array<{ pred: (m: any) => boolean; resolve: (m: any) => void }> = [];
    ws.on('message', d => {
      const m = JSON.parse(String(d));
      const i = waiters.findIndex(w => w.pred(m));
      if (i >= 0) waiters.splice(i, 1)[0].resolve(m); else queue.push(m);
    });
    ws.once('open', () => resolve({
      ws,
      next: (pred = () => true) => {
        const i = queue.findIndex(pred);
        if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]);
        return new Promise((res, rej) => {
          const t = setTimeout(() => rej(new Error('no matching WS message within 3s')), 3000);
          waiters.push({ pred, resolve: m => { clearTimeout(t); res(m); } });
        });
      },
    }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Reads SSE frames from a fetch response until `count` frames with data arrived. */
async function readSse(url: string, headers: Record<string, string>, count: number): Promise<SseFrame[]> {
  const ctrl = new AbortController();
  const res = await fetch(url, { headers, signal: ctrl.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const frames: SseFrame[] = [];
  const timer = setTimeout(() => ctrl.abort(), 5000);
  try {
    for await (const f of sseFrames(res.body!)) if (frames.push(f) >= count) break;
  } finally {
    clearTimeout(timer);
    ctrl.abort();
  }
  return frames;
}

describe('events over WebSocket and SSE', () => {
  let k: TestKernel;
  let alice: { token: string; user: { id: string } };
  let bob: { token: string; user: { id: string } };
  before(async () => {
    k = await createTestKernel({ plugins: [{ path: join(__dirname, '..', '..', 'plugins', 'accounts') }, { path: NOTES }] });
    alice = await k.createUser();
    bob = await k.createUser();
  });
  after(() => k.stop());

  test('/ws refuses unauthenticated upgrades with 401 and foreign origins with 403', async () => {
    const wsUrl = k.baseUrl.replace('http', 'ws') + '/ws';
    await assert.rejects(openWs(wsUrl), /401/);
    await assert.rejects(openWs(wsUrl, { authorization: `Bearer ${alice.token}`, origin: 'http://evil.example' }), /403/);
    await assert.rejects(openWs(k.baseUrl.replace('http', 'ws') + '/nowhere', { authorization: `Bearer ${alice.token}` }), /404/);
  });

  test('a subscriber receives its own events and not another user\'s', async () => {
    const a = await openWs(k.baseUrl.replace('http', 'ws') + '/ws', { authorization: `Bearer ${alice.token}` });
    const b = await openWs(k.baseUrl.replace('http', 'ws') + '/ws', { authorization: `Bearer ${bob.token}` });
    a.ws.send(JSON.stringify({ type: 'subscribe', topics: ['notes.*'] }));
    b.ws.send(JSON.stringify({ type: 'subscribe', topics: ['notes.*'] }));
    await a.next(m => m.type === 'subscribed');
    await b.next(m => m.type === 'subscribed');
    await k.request('POST', '/api/notes', { token: alice.token, body: { text: 'for alice' } });
    await k.request('POST', '/api/notes', { token: bob.token, body: { text: 'for bob' } });
    const ea = await a.next(m => m.type === 'event');
    const eb = await b.next(m => m.type === 'event');
    assert.equal(ea.event.payload.text, 'for alice');
    assert.equal(eb.event.payload.text, 'for bob');
    await assert.rejects(a.next(m => m.type === 'event'), /no matching/);
    a.ws.send('not json');
    assert.equal((await a.next(m => m.type === 'error')).error.code, 'PLINTH_ERR_MALFORMED_JSON');
    a.ws.close();
    b.ws.close();
  });

  test('a browser ticket from POST /api/ws/ticket opens /ws once', async () => {
    const t = await k.request('POST', '/api/ws/ticket', { token: alice.token });
    const url = `${k.baseUrl.replace('http', 'ws')}/ws?ticket=${t.body.ticket}`;
    const c = await openWs(url);
    assert.equal((await c.next(m => m.type === 'welcome')).user.id, alice.user.id);
    c.ws.close();
    await assert.rejects(openWs(url), /401/, 'a ticket is single-use');
  });

  test('SSE replays after Last-Event-ID and then goes live', async () => {
    const carol = await k.createUser();
    const ids: string[] = [];
    for (const text of ['one', 'two', 'three']) {
      await k.request('POST', '/api/notes', { token: carol.token, body: { text } });
    }
    const all = await readSse(`${k.baseUrl}/api/notes/stream`, { authorization: `Bearer ${carol.token}` }, 3);
    assert.deepEqual(all.map(f => f.data.text), ['one', 'two', 'three']);
    ids.push(...all.map(f => f.id!));
    const resumed = readSse(`${k.baseUrl}/api/notes/stream`, { authorization: `Bearer ${carol.token}`, 'last-event-id': ids[0] }, 3);
    await new Promise(r => setTimeout(r, 150));
    await k.request('POST', '/api/notes', { token: carol.token, body: { text: 'four (live)' } });
    const frames = await resumed;
    assert.deepEqual(frames.map(f => f.data.text), ['two', 'three', 'four (live)']);
    assert.ok(frames.every(f => f.event === 'notes.created'));
    const byQuery = await readSse(`${k.baseUrl}/api/notes/stream?last_event_id=${ids[1]}`, { authorization: `Bearer ${carol.token}` }, 2);
    assert.deepEqual(byQuery.map(f => f.data.text), ['three', 'four (live)']);
  });
});
