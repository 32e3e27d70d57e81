import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Output } from '../../cli/output';

function streams(tty: boolean) {
  const written = { stdout: '', stderr: '' };
  const make = (key: 'stdout' | 'stderr') => ({ isTTY: tty, write: (s: string) => { written[key] += s; return true; } }) as any;
  return { written, streams: { stdout: make('stdout'), stderr: make('stderr') } };
}

test('on a terminal: colour and a progress bar redrawn in place on stderr', () => {
  const { written, streams: s } = streams(true);
  const out = new Output({ env: {}, streams: s }, s);
  const bar = out.progress(4, 'start');
  bar.tick('node'); bar.tick('registry');
  assert.match(written.stderr, /\r\x1b\[2K\[█{12}░{12}\] 2\/4 registry/);
  bar.finish();
  assert.ok(written.stderr.endsWith('\r\x1b[2K'), 'the bar is erased at the end');
  out.ok('done');
  assert.equal(written.stdout, '\x1b[32m✓\x1b[0m done\n');
});

test('NO_COLOR, --json or a pipe: no colour and no bar', () => {
  for (const [tty, env, json] of [[true, { NO_COLOR: '1' }, false], [true, {}, true], [false, {}, false]] as const) {
    const { written, streams: s } = streams(tty);
    const out = new Output({ env, json, streams: s }, s);
    out.progress(2, 'x').tick();
    out.ok('done');
    assert.equal(written.stderr, '');
    assert.doesNotMatch(written.stdout, /\x1b/);
    assert.equal(written.stdout, json ? '' : '✓ done\n', 'with --json only the result document is printed');
  }
});
