import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createTestKernel, type TestKernel } from 'plinth/testing';

const AGENTS = join(__dirname, '..');

function connect(url: string, headers: Record<string, string>): Promise<{ ws: WebSocket; frames: any[]; until(pred: (f: any) => boolean): Promise<any> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const frames: any[] = [];
    const waiters: Array<{ pred: (f: any) => boolean; done: (f: any) => void }> = [];
    ws.on('message', d => {
      const f = JSON.parse(String(d));
      frames.push(f);
      for (const w of [...waiters]) if (w.pred(f)) { waiters.splice(waiters.indexOf(w), 1); w.done(f); }
    });
    ws.once('open', () => resolve({
      ws, frames,
      until: pred => {
        const seen = frames.find(pred);
        if (seen) return Promise.resolve(seen);
        return new Promise((res, rej) => {
          const t = setTimeout(() => rej(new Error('no matching frame within 5 s')), 5000);
          waiters.push({ pred, done: f => { clearTimeout(t); res(f); } });
        });
      },
    }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('chat over WebSocket (/api/agent/ws)', () => {
  let k: TestKernel;
  let url: string;
  before(async () => {
    k = await createTestKernel({ plugins: [{ path: AGENTS }] });
    url = k.baseUrl.replace('http', 'ws') + '/api/agent/ws';
  });
  after(() => k.stop());

  test('a message streams chunks and ends with done; the session is a real one', async () => {
    const u = await k.createUser();
    const c = await connect(url, { authorization: `Bearer ${u.token}` });
    c.ws.send(JSON.stringify({ type: 'message', id: 'm1', text: 'hello over the socket' }));
    const done = await c.until(f => f.type === 'done');
    assert.equal(done.id, 'm1');
    const text = c.frames.filter(f => f.type === 'chunk' && f.chunk.type === 'text').map(f => f.chunk.text).join('');
    assert.match(text, /hello over the socket/);
    assert.equal(done.result.text, text);
    const session = await k.request('GET', `/api/sessions/${done.result.sessionId}/messages`, { token: u.token });
    assert.equal(session.status, 200);
    assert.ok(JSON.stringify(session.body).includes('hello over the socket'));
    c.ws.send(JSON.stringify({ type: 'message', id: 'm2', session_id: done.result.sessionId, text: 'second' }));
    const second = await c.until(f => f.type === 'done' && f.id === 'm2');
    assert.equal(second.result.sessionId, done.result.sessionId);
    c.ws.close();
  });

  test('bad frames and unknown agents get an error frame; no token is refused', async () => {
    const u = await k.createUser();
    const c = await connect(url, { authorization: `Bearer ${u.token}` });
    c.ws.send('not json');
    assert.equal((await c.until(f => f.type === 'error')).error.code, 'PLINTH_ERR_MALFORMED_JSON');
    c.ws.send(JSON.stringify({ type: 'message', id: 'x', agent: 'nobody-by-this-name', text: 'hi' }));
    const unknown = await c.until(f => f.type === 'error' && f.id === 'x');
    assert.equal(unknown.error.code, 'PLINTH_ERR_NOT_FOUND');
    c.ws.close();
    await assert.rejects(connect(url, {}), /401/);
  });
});
