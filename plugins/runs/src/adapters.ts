import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errors, type Disposer } from 'plinth/sdk';
import type { CliAdapter, CliAdapterRegistry } from './contract';

/** The adapter registry other plugins extend through `cliAdaptersRef`; a later registration of a name wins until disposed. */
export class CliAdapters implements CliAdapterRegistry {
  private readonly stack = new Map<string, CliAdapter[]>();

  register(adapter: CliAdapter): Disposer {
    if (!adapter?.name || typeof adapter.command !== 'function') throw new Error('a CLI adapter needs a name and command()');
    const list = this.stack.get(adapter.name) ?? [];
    list.push(adapter);
    this.stack.set(adapter.name, list);
    return () => {
      const l = this.stack.get(adapter.name);
      if (!l) return;
      const i = l.indexOf(adapter);
      if (i >= 0) l.splice(i, 1);
      if (!l.length) this.stack.delete(adapter.name);
    };
  }

  get(name: string): CliAdapter | undefined {
    const l = this.stack.get(name);
    return l?.[l.length - 1];
  }

  names(): string[] { return [...this.stack.keys()].sort(); }

  require(name: string): CliAdapter {
    const a = this.get(name);
    if (!a) throw errors.badRequest(`no CLI adapter "${name}"; known adapters: ${this.names().join(', ')}`);
    return a;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length ? v : undefined);

/** Last JSON object in the output that satisfies `pick`, scanning lines from the end (PTY output ends lines with \r\n). */
function lastJson(output: string, pick: (o: any) => boolean): any {
  const lines = output.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim().replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    if (!line.startsWith('{')) continue;
    try { const o = JSON.parse(line); if (pick(o)) return o; } catch { /* a partial or wrapped line */ }
  }
  return undefined;
}

/**
 * The hook command the CLIs run: it posts the hook's JSON (stdin) to the run's hook URL with the
 * per-run token, both taken from the environment the run was spawned with, and prints the answer
 * (a PreToolUse decision) on stdout for the CLI to read. Inside the sandbox the kernel is reached
 * through the sandbox's proxy (PLINTH_NO_PROXY is empty there); outside it, directly.
 */
export const HOOK_COMMAND = 'curl -sS -m 600 --noproxy "${PLINTH_NO_PROXY-*}" -X POST -H "authorization: Bearer $PLINTH_RUN_TOKEN" -H "content-type: application/json" --data-binary @- "$PLINTH_HOOK_URL"';

/**
 * Claude Code (docs.claude.com/en/docs/claude-code): headless `-p` with `stream-json` output so the
 * terminal shows progress and the last line is the `result` record (session_id, total_cost_usd,
 * usage); `--resume <session>` continues. Hooks go in `.claude/settings.local.json`, the file
 * meant for local, uncommitted settings.
 */
export const claudeCodeAdapter: CliAdapter = {
  name: 'claude-code',
  command({ task, message, sessionId, config }) {
    const args = ['-p', sessionId ? (message ?? task) : message ? `${task}\n\n${message}` : task, '--output-format', 'stream-json', '--verbose'];
    if (sessionId) args.push('--resume', sessionId);
    const model = str(config.model);
    if (model) args.push('--model', model);
    const mode = str(config.permission_mode);
    if (mode) args.push('--permission-mode', mode);
    if (Array.isArray(config.allowed_tools) && config.allowed_tools.length) args.push('--allowedTools', config.allowed_tools.join(','));
    if (typeof config.max_turns === 'number') args.push('--max-turns', String(config.max_turns));
    return { file: str(config.binary) ?? 'claude', args };
  },
  async setupHooks({ cwd }) {
    const dir = join(cwd, '.claude');
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'settings.local.json');
    let settings: any = {};
    try { settings = JSON.parse(await readFile(file, 'utf8')); } catch { /* none yet */ }
    const hook = [{ matcher: '*', hooks: [{ type: 'command', command: HOOK_COMMAND, timeout: 600 }] }];
    const plain = [{ hooks: [{ type: 'command', command: HOOK_COMMAND }] }];
    settings.hooks = {
      ...(settings.hooks ?? {}),
      PreToolUse: hook, PostToolUse: hook, Notification: plain, UserPromptSubmit: plain,
      Stop: plain, SubagentStop: plain, SessionStart: plain,
    };
    await writeFile(file, JSON.stringify(settings, null, 2) + '\n');
  },
  parseResult(output) {
    const r = lastJson(output, o => o?.type === 'result');
    if (!r) return undefined;
    return {
      sessionId: str(r.session_id),
      costUsd: typeof r.total_cost_usd === 'number' ? r.total_cost_usd : undefined,
      inputTokens: typeof r.usage?.input_tokens === 'number' ? r.usage.input_tokens : undefined,
      outputTokens: typeof r.usage?.output_tokens === 'number' ? r.usage.output_tokens : undefined,
    };
  },
};

/**
 * OpenAI Codex CLI (github.com/openai/codex, docs/exec.md and docs/config.md): `codex exec --json`
 * prints JSONL (`thread.started` with thread_id, `turn.completed` with usage); `exec resume <id>`
 * continues. Its only hook is `notify`, a program that gets the event JSON as its last argument,
 * set per invocation with `-c notify=[…]`, so nothing is written into the worktree.
 */
export const codexAdapter: CliAdapter = {
  name: 'codex',
  command({ task, message, sessionId, config }) {
    const prompt = sessionId ? (message ?? task) : message ? `${task}\n\n${message}` : task;
    const notify = ['sh', '-c', 'printf "%s" "$1" | ' + HOOK_COMMAND.replace('"$PLINTH_HOOK_URL"', '"$PLINTH_HOOK_URL?source=codex"'), 'plinth-notify'];
    const args = ['exec'];
    if (sessionId) args.push('resume', sessionId);
    args.push('--json', '--skip-git-repo-check', '-c', `notify=${JSON.stringify(notify)}`);
    const model = str(config.model);
    if (model) args.push('--model', model);
    const sandbox = str(config.sandbox) ?? 'workspace-write';
    if (!sessionId) args.push('--sandbox', sandbox);
    if (config.full_auto === true) args.push('--full-auto');
    args.push(prompt);
    return { file: str(config.binary) ?? 'codex', args };
  },
  parseResult(output) {
    const started = lastJson(output, o => o?.type === 'thread.started');
    const done = lastJson(output, o => o?.type === 'turn.completed');
    if (!started && !done) return undefined;
    return {
      sessionId: str(started?.thread_id),
      inputTokens: typeof done?.usage?.input_tokens === 'number' ? done.usage.input_tokens : undefined,
      outputTokens: typeof done?.usage?.output_tokens === 'number' ? done.usage.output_tokens : undefined,
    };
  },
};

/**
 * Any program: `provider_config.command` and `args`, where `{task}`, `{message}` and `{session}`
 * are replaced; the same values are in PLINTH_TASK, PLINTH_MESSAGE and PLINTH_SESSION_ID. A line
 * `PLINTH_RESULT {"sessionId":…,"inputTokens":…,"outputTokens":…,"costUsd":…}` reports a result.
 * Inside the process sandbox the program reaches PLINTH_HOOK_URL only through the sandbox's proxy
 * (HTTP_PROXY; loopback is in NO_PROXY there), as HOOK_COMMAND does with `--noproxy "$PLINTH_NO_PROXY"`.
 */
export const commandAdapter: CliAdapter = {
  name: 'command',
  command({ task, message, sessionId, config }) {
    const file = str(config.command);
    if (!file) throw errors.badRequest('the command adapter needs provider_config.command (a program) and optional args');
    const raw = Array.isArray(config.args) ? config.args.map(String) : [];
    const args = raw.map(a => a.replaceAll('{task}', task).replaceAll('{message}', message ?? '').replaceAll('{session}', sessionId ?? ''));
    return { file, args, env: { PLINTH_TASK: task, PLINTH_MESSAGE: message ?? '', PLINTH_SESSION_ID: sessionId ?? '' } };
  },
  parseResult(output) {
    const m = [...output.matchAll(/PLINTH_RESULT (\{[^\r\n]*\})/g)].pop();
    if (!m) return undefined;
    try {
      const o = JSON.parse(m[1]);
      return { sessionId: str(o.sessionId), inputTokens: o.inputTokens, outputTokens: o.outputTokens, costUsd: o.costUsd };
    } catch { return undefined; }
  },
};
