/** The web app's pure modules, run in Node: the SSE parser, the chat frame reducer, the diff parser. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, type SseEvent } from '../web/lib/sse';
import { applyFrame, delegationOf, type Turn } from '../web/lib/turns';
import { parseUnifiedDiff } from '../web/lib/diff';

function parse(chunks: string[]): SseEvent[] {
  const out: SseEvent[] = [];
  const p = new SseParser(e => out.push(e));
  for (const c of chunks) p.feed(c);
  p.end();
  return out;
}

test('SSE: messages split anywhere, CRLF/CR/LF line ends, comments, multi-line data, ids', () => {
  const text = ': hello\r\nid: 1\r\nevent: chunk\r\ndata: {"a":1}\r\n\r\nid: 2\rdata: line one\rdata: line two\r\rdata: plain\n\n';
  const whole = parse([text]);
  assert.deepEqual(whole, [
    { id: '1', event: 'chunk', data: '{"a":1}' },
    { id: '2', event: 'message', data: 'line one\nline two' },
    { id: '2', event: 'message', data: 'plain' },
  ]);
  // Every split point, including between the CR and LF of a CRLF, gives the same messages.
  for (let i = 1; i < text.length; i++) assert.deepEqual(parse([text.slice(0, i), text.slice(i)]), whole, `split at ${i}`);
  assert.deepEqual(parse(['\ufeffdata: x\n\n']), [{ id: undefined, event: 'message', data: 'x' }]);
  assert.deepEqual(parse(['data: unterminated']), [], 'a message without its blank line is dropped');
});

test('chat frames: text chunks join, a tool call gets its result, done and error close the turn', () => {
  let t: Turn[] = [];
  t = applyFrame(t, 'message', { turnId: 't1', message: { role: 'user', content: 'hi' } });
  t = applyFrame(t, 'chunk', { turnId: 't1', type: 'text', text: 'hel' });
  t = applyFrame(t, 'chunk', { turnId: 't1', type: 'text', text: 'lo' });
  t = applyFrame(t, 'chunk', { turnId: 't1', type: 'tool_call', call: { id: 'c1', name: 'x.y', arguments: '{}' } });
  assert.equal(t[0].status, 'streaming');
  t = applyFrame(t, 'chunk', { turnId: 't1', type: 'tool_result', callId: 'c1', name: 'x.y', ok: false, output: { error: 'denied' } });
  t = applyFrame(t, 'done', { turnId: 't1', usage: { inputTokens: 3, outputTokens: 1 }, partial: false });
  t = applyFrame(t, 'error', { turnId: 't2', error: { message: 'model down' } });
  assert.equal(t.length, 2);
  assert.deepEqual(t[0].parts, [{ type: 'text', text: 'hello' }, { type: 'tool', callId: 'c1', name: 'x.y', arguments: '{}', result: { ok: false, output: { error: 'denied' } } }]);
  assert.equal(t[0].user, 'hi');
  assert.equal(t[0].status, 'done');
  assert.equal(t[1].status, 'error');
  assert.equal(t[1].error, 'model down');
  assert.equal(applyFrame(t, 'unknown', { turnId: 't1' }), t);
});

test('diff: removed and added lines pair up side by side with their line numbers', () => {
  const diff = [
    'diff --git a/README.md b/README.md', 'index 1..2 100644', '--- a/README.md', '+++ b/README.md',
    '@@ -1,3 +1,4 @@', ' one', '-two', '-three', '+2', '+3', '+4', ' five',
    'diff --git a/new.txt b/new.txt', 'new file mode 100644', '--- /dev/null', '+++ b/new.txt', '@@ -0,0 +1 @@', '+hello', '\\ No newline at end of file', '',
  ].join('\n');
  const [readme, created] = parseUnifiedDiff(diff);
  assert.equal(readme.path, 'README.md');
  assert.equal(readme.additions, 3);
  assert.equal(readme.deletions, 2);
  const changes = readme.rows.filter(r => r.kind === 'change');
  assert.deepEqual(changes.map(r => [r.left?.n, r.left?.text, r.right?.n, r.right?.text]), [[2, 'two', 2, '2'], [3, 'three', 3, '3'], [undefined, undefined, 4, '4']]);
  assert.deepEqual(readme.rows.at(-1), { kind: 'context', left: { n: 4, text: 'five', removed: false }, right: { n: 5, text: 'five', added: false } });
  assert.equal(created.path, 'new.txt');
  assert.deepEqual(created.rows.filter(r => r.kind === 'change').map(r => r.right?.text), ['hello']);
});

test('chat frames: a subagent.<name> tool call is a delegation, with the child session once it answered', () => {
  let t: Turn[] = applyFrame([], 'chunk', { turnId: 't1', type: 'tool_call', call: { id: 'c1', name: 'subagent.helper', arguments: '{"task":"x"}' } });
  assert.deepEqual(delegationOf(t[0].parts[0]), { subagent: 'helper', sessionId: undefined, turnId: undefined, status: undefined });
  t = applyFrame(t, 'chunk', { turnId: 't1', type: 'tool_result', callId: 'c1', ok: true, output: { subagent: 'helper', sessionId: 'ses_1', turnId: 'turn_2', status: 'ok', text: 'done' } });
  assert.deepEqual(delegationOf(t[0].parts[0]), { subagent: 'helper', sessionId: 'ses_1', turnId: 'turn_2', status: 'ok' });
  assert.equal(delegationOf({ type: 'tool', callId: 'c2', name: 'memory.search', arguments: '{}' }), undefined);
  assert.equal(delegationOf({ type: 'text', text: 'hi' }), undefined);
});
