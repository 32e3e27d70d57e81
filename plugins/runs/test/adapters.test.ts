import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliAdapters, HOOK_COMMAND, claudeCodeAdapter, codexAdapter, commandAdapter } from '../src/adapters';
import { mapHook, tasksFrom } from '../src/hooks';

describe('CLI adapters', () => {
  test('claude-code: headless stream-json, resume with the session, hooks in settings.local.json', async () => {
    const first = claudeCodeAdapter.command({ task: 'fix it', cwd: '/w', config: { model: 'sonnet', permission_mode: 'acceptEdits' } });
    assert.deepEqual(first, { file: 'claude', args: ['-p', 'fix it', '--output-format', 'stream-json', '--verbose', '--model', 'sonnet', '--permission-mode', 'acceptEdits'] });
    const resumed = claudeCodeAdapter.command({ task: 'fix it', message: 'and test', sessionId: 's-1', cwd: '/w', config: {} });
    assert.deepEqual(resumed.args, ['-p', 'and test', '--output-format', 'stream-json', '--verbose', '--resume', 's-1']);
    const cwd = mkdtempSync(join(tmpdir(), 'plinth-claude-'));
    mkdirSync(join(cwd, '.claude'));
    writeFileSync(join(cwd, '.claude', 'settings.local.json'), JSON.stringify({ permissions: { allow: ['Bash(ls)'] } }));
    await claudeCodeAdapter.setupHooks!({ cwd, hookUrl: 'http://127.0.0.1:1/api/runs/r/hook', token: 't' });
    const settings = JSON.parse(readFileSync(join(cwd, '.claude', 'settings.local.json'), 'utf8'));
    assert.deepEqual(settings.permissions, { allow: ['Bash(ls)'] });
    for (const e of ['PreToolUse', 'PostToolUse', 'Notification', 'Stop', 'SubagentStop', 'UserPromptSubmit']) {
      assert.equal(settings.hooks[e][0].hooks[0].type, 'command', e);
      assert.equal(settings.hooks[e][0].hooks[0].command, HOOK_COMMAND);
    }
    assert.equal(settings.hooks.PreToolUse[0].matcher, '*');
    // The token is never written to disk: the hook reads it from the run's environment.
    assert.ok(!readFileSync(join(cwd, '.claude', 'settings.local.json'), 'utf8').includes('"t"'));
    const out = '{"type":"system"}\r\n{"type":"result","session_id":"abc","total_cost_usd":0.12,"usage":{"input_tokens":100,"output_tokens":20}}\r\n';
    assert.deepEqual(claudeCodeAdapter.parseResult!(out), { sessionId: 'abc', costUsd: 0.12, inputTokens: 100, outputTokens: 20 });
    assert.equal(claudeCodeAdapter.parseResult!('no json here'), undefined);
  });

  test('codex: exec --json, exec resume, notify hook as a -c override that really posts', () => {
    const c = codexAdapter.command({ task: 'do', cwd: '/w', config: { model: 'o4-mini' } });
    assert.equal(c.file, 'codex');
    assert.deepEqual(c.args.slice(0, 4), ['exec', '--json', '--skip-git-repo-check', '-c']);
    assert.ok(c.args.includes('--model') && c.args.includes('o4-mini'));
    assert.deepEqual(c.args.slice(-3), ['--sandbox', 'workspace-write', 'do']);
    const notify = JSON.parse(c.args[4].replace(/^notify=/, ''));
    assert.equal(notify[0], 'sh');
    // Run the notify command the way codex does (payload as last argument) against a stand-in curl.
    const bin = mkdtempSync(join(tmpdir(), 'plinth-curl-'));
    writeFileSync(join(bin, 'curl'), '#!/bin/sh\nfor a in "$@"; do echo "ARG:$a"; done\necho "BODY:$(cat)"\n', { mode: 0o755 });
    const out = execFileSync(notify[0], [...notify.slice(1), '{"type":"agent-turn-complete"}'], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, PLINTH_RUN_TOKEN: 'tok', PLINTH_HOOK_URL: 'http://h/hook' } });
    assert.match(out, /ARG:authorization: Bearer tok/);
    assert.match(out, /ARG:http:\/\/h\/hook\?source=codex/);
    assert.match(out, /BODY:\{"type":"agent-turn-complete"\}/);
    const resumed = codexAdapter.command({ task: 'do', message: 'more', sessionId: 'th-1', cwd: '/w', config: {} });
    assert.deepEqual(resumed.args.slice(0, 3), ['exec', 'resume', 'th-1']);
    assert.equal(resumed.args[resumed.args.length - 1], 'more');
    assert.deepEqual(codexAdapter.parseResult!('{"type":"thread.started","thread_id":"th-9"}\n{"type":"turn.completed","usage":{"input_tokens":5,"output_tokens":6}}\n'),
      { sessionId: 'th-9', inputTokens: 5, outputTokens: 6 });
  });

  test('command: placeholders, env, result line; a missing command is a 400', () => {
    const c = commandAdapter.command({ task: 'T', message: 'M', sessionId: 'S', cwd: '/w', config: { command: '/bin/echo', args: ['{task}', '-{message}-', '{session}'] } });
    assert.deepEqual(c, { file: '/bin/echo', args: ['T', '-M-', 'S'], env: { PLINTH_TASK: 'T', PLINTH_MESSAGE: 'M', PLINTH_SESSION_ID: 'S' } });
    assert.throws(() => commandAdapter.command({ task: 'T', cwd: '/w', config: {} }), (e: any) => e.status === 400);
    assert.deepEqual(commandAdapter.parseResult!('x\r\nPLINTH_RESULT {"sessionId":"q","costUsd":1}\r\n'), { sessionId: 'q', inputTokens: undefined, outputTokens: undefined, costUsd: 1 });
  });

  test('the registry: later registrations win until disposed; unknown names are a 400', () => {
    const reg = new CliAdapters();
    const off1 = reg.register(commandAdapter);
    const custom = { ...commandAdapter, command: () => ({ file: 'x', args: [] }) };
    const off2 = reg.register(custom);
    assert.equal(reg.get('command'), custom);
    off2();
    assert.equal(reg.get('command'), commandAdapter);
    off1();
    assert.throws(() => reg.require('command'), (e: any) => e.status === 400);
  });

  test('hook payloads map to run events', () => {
    assert.deepEqual(mapHook({ hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'ls' }, session_id: 's' }),
      { type: 'agent.tool_call', data: { tool: 'Bash', input: { command: 'ls' }, tool_use_id: undefined }, sessionId: 's', preToolUse: true });
    assert.equal(mapHook({ hook_event_name: 'Notification', message: 'needs you' }).type, 'agent.needs_attention');
    assert.equal(mapHook({ hook_event_name: 'SubagentStop' }).type, 'agent.subagent_stop');
    assert.equal(mapHook({ type: 'agent-turn-complete', 'thread-id': 't' }).sessionId, 't');
    assert.equal(mapHook({ type: 'agent.subagent_start', agent: 'x' }).type, 'agent.subagent_start');
    assert.throws(() => mapHook({ type: 'run.completed' }), (e: any) => e.status === 400);
    assert.throws(() => mapHook([1]), (e: any) => e.status === 400);
    assert.deepEqual(tasksFrom([{ seq: 1, type: 'agent.tool_call', data: { tool: 'TodoWrite', input: { todos: [1] } } }, { seq: 2, type: 'agent.task', data: { tasks: [2] } }]), [2]);
  });
});
