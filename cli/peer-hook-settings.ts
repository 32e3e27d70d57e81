import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'smol-toml';

export interface PeerHookOptions { name: string; circle?: string; plinth: string[] }

/** Commands of ours, recognised so that writing twice replaces them instead of adding a second set. */
const OURS = [' peer hook --backend ', ' peer turn '];
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The three hook events a pane's peer needs, in the shape Claude Code and Codex share
 * (`{ hooks: { Event: [{ hooks: [{ type: 'command', command }] }] } }`): the session start runs
 * `peer hook` in the background (the CLI waits for hook commands; the hook shell's parent,
 * `$PPID`, is the agent CLI itself), a submitted prompt reports the turn busy and the turn's
 * stop reports it idle. `peer turn` prints nothing on stdout: both CLIs add a prompt hook's
 * stdout to the model's context. PLINTH_URL and PLINTH_TOKEN come from the CLI's environment.
 */
function peerHookCommands(backend: string, o: PeerHookOptions): Record<string, string> {
  const plinth = o.plinth.map(quote).join(' ');
  return {
    SessionStart: `${plinth} peer hook --backend ${backend} --name ${quote(o.name)}${o.circle ? ` --circle ${quote(o.circle)}` : ''} --agent-pid "$PPID" >/dev/null 2>&1 &`,
    UserPromptSubmit: `${plinth} peer turn busy >/dev/null`,
    Stop: `${plinth} peer turn idle >/dev/null`,
  };
}

/** Merged into existing hooks the way the runs plugin writes a run's: other events and other hooks kept, ours replaced. */
function mergeHooks(hooks: Record<string, any[]> | undefined, commands: Record<string, string>): Record<string, any[]> {
  const out = { ...(hooks ?? {}) };
  for (const [event, command] of Object.entries(commands)) {
    const others = (out[event] ?? []).filter((e: any) => !(e.hooks ?? []).some((h: any) => typeof h.command === 'string' && OURS.some(m => h.command.includes(m))));
    out[event] = [...others, { hooks: [{ type: 'command', command }] }];
  }
  return out;
}

async function readJson(file: string): Promise<any> {
  try { return JSON.parse(await readFile(file, 'utf8')); } catch (err: any) {
    if (err.code === 'ENOENT') return {};
    throw new Error(`${file} is not JSON (${err.message}): fix or remove it first`);
  }
}

/** Claude Code: `.claude/settings.local.json` (the file for local, uncommitted settings). */
export async function writeClaudeHooks(cwd: string, o: PeerHookOptions): Promise<string[]> {
  await mkdir(join(cwd, '.claude'), { recursive: true });
  const file = join(cwd, '.claude', 'settings.local.json');
  const settings = await readJson(file);
  settings.hooks = mergeHooks(settings.hooks, peerHookCommands('claude-code', o));
  await writeFile(file, JSON.stringify(settings, null, 2) + '\n');
  return [file];
}

/**
 * Codex (developers.openai.com/codex/hooks): the project's `.codex/hooks.json`, and the feature
 * flag hooks need, `[features] codex_hooks = true`, in the project's `.codex/config.toml`. Its
 * per-turn `notify` is not used: it fires only at a turn's end and cannot start the hook.
 */
export async function writeCodexHooks(cwd: string, o: PeerHookOptions): Promise<string[]> {
  await mkdir(join(cwd, '.codex'), { recursive: true });
  const config = join(cwd, '.codex', 'config.toml');
  let toml = '';
  try { toml = await readFile(config, 'utf8'); } catch (err: any) { if (err.code !== 'ENOENT') throw err; }
  const enabled = enableCodexHooks(toml, config);
  const file = join(cwd, '.codex', 'hooks.json');
  const settings = await readJson(file);
  settings.hooks = mergeHooks(settings.hooks, peerHookCommands('codex', o));
  await writeFile(file, JSON.stringify(settings, null, 2) + '\n');
  if (enabled !== toml) await writeFile(config, enabled);
  return [file, config];
}

/**
 * `config.toml` with `features.codex_hooks = true`, edited as text so the user's comments and
 * layout stay, and checked by parsing before and after (a file this cannot edit safely is refused,
 * untouched, with what to add by hand).
 */
export function enableCodexHooks(toml: string, where: string): string {
  const read = (text: string): any => { try { return parse(text); } catch (err: any) { throw new Error(`${where} is not valid TOML (${err.message.split('\n')[0]}): fix it first`); } };
  const features = read(toml).features;
  if (features?.codex_hooks === true) return toml;
  let next: string;
  const header = /^[ \t]*\[features\][ \t]*(#.*)?$/m;
  if (features === undefined) next = `${toml}${toml && !toml.endsWith('\n') ? '\n' : ''}\n[features]\ncodex_hooks = true\n`;
  else if (/^[ \t]*(features\.)?codex_hooks[ \t]*=.*$/m.test(toml)) next = toml.replace(/^([ \t]*(features\.)?codex_hooks[ \t]*=).*$/m, '$1 true');
  else if (header.test(toml)) next = toml.replace(header, m => `${m}\ncodex_hooks = true`);
  else next = '';
  if (!next || read(next).features?.codex_hooks !== true) throw new Error(`${where}: could not enable Codex hooks here; add \`codex_hooks = true\` under [features] by hand`);
  return next;
}
