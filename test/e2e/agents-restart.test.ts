/**
 * Issue 3, "nothing half-written is lost on restart": the real server is killed with SIGKILL while
 * a turn streams from a slow fake upstream, then started again on the same data dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSse, startFakeOpenAi } from 'plinth/testing';
import { startServer, type ServerProcess } from '../helpers/server';
import { ROOT } from './helpers';

test('kill -9 mid-stream: after a restart the user message and the partial answer are stored and marked, the turn interrupted', async () => {
  const upstream = await startFakeOpenAi();
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-restart-'));
  const registry = join(dataDir, 'plugin-registry.json');
  writeFileSync(registry, JSON.stringify({ plugins: [{ id: 'agents', path: join(ROOT, 'plugins', 'agents'), enabled: true, config: { openai: { baseUrl: upstream.baseUrl, model: 'fake-model' } } }] }));
  const env = { PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry, PLINTH_ADMIN_TOKEN: 'plt_restart_' + 'a'.repeat(24) };
  const servers: ServerProcess[] = [];
  try {
    const first = await startServer(env);
    servers.push(first);
    const auth = { authorization: `Bearer ${env.PLINTH_ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const session = await (await fetch(`${first.baseUrl}/api/sessions`, { method: 'POST', headers: auth, body: JSON.stringify({ agent: 'assistant' }) })).json() as any;

    // 100 words 40 ms apart: about 4 s of answer, cut after about 1.6 s (the answer is checkpointed each second).
    const words = Array.from({ length: 100 }, (_, i) => `w${i} `);
    upstream.script({ text: words, delayMs: 40 });
    const abort = new AbortController();
    const res = await fetch(`${first.baseUrl}/api/sessions/${session.id}/messages`, {
      method: 'POST', signal: abort.signal, headers: { ...auth, accept: 'text/event-stream' }, body: JSON.stringify({ message: 'tell me a long story' }),
    });
    const frames: Array<{ event?: string; data: any }> = [];
    // The stream ends with a reset socket when the server dies: what arrived before is what counts.
    await readSse(res, f => {
      frames.push(f);
      if (frames.filter(x => x.event === 'chunk').length === 40) first.kill('SIGKILL');
      return false;
    }, abort).catch(() => undefined);
    await first.exited;
    const streamed = frames.filter(f => f.event === 'chunk').map(f => f.data.text).join('');
    assert.ok(streamed.length > 0 && !frames.some(f => f.event === 'done'), 'the turn was cut mid-stream');

    const second = await startServer(env);
    servers.push(second);
    const get = async (path: string) => (await fetch(`${second.baseUrl}${path}`, { headers: auth })).json() as any;
    const msgs = (await get(`/api/sessions/${session.id}/messages`)).items;
    assert.deepEqual(msgs.map((m: any) => [m.role, m.partial]), [['user', false], ['assistant', true]]);
    assert.equal(msgs[0].content, 'tell me a long story');
    const partial = msgs[1].content as string;
    assert.ok(partial.length > 0, 'the checkpointed part of the answer survived');
    assert.ok(words.join('').startsWith(partial) && streamed.startsWith(partial), `stored "${partial}" is a prefix of what streamed`);
    assert.ok(partial.length < words.join('').length);
    const [turn] = (await get(`/api/sessions/${session.id}/turns`)).items;
    assert.equal(turn.status, 'interrupted');
    assert.match(turn.error, /kernel stopped/);

    // The session goes on: the next turn sees the partial answer in its history.
    upstream.script({ text: ['And ', 'then?'] });
    const next = await (await fetch(`${second.baseUrl}/api/sessions/${session.id}/messages`, { method: 'POST', headers: auth, body: JSON.stringify({ message: 'go on' }) })).json() as any;
    assert.equal(next.text, 'And then?');
    assert.deepEqual(upstream.requests.at(-1).messages.slice(1).map((m: any) => [m.role, m.content]), [['user', 'tell me a long story'], ['assistant', partial], ['user', 'go on']]);
  } finally {
    for (const s of servers) s.kill('SIGKILL');
    await Promise.all(servers.map(s => s.exited));
    await upstream.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
