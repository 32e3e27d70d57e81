import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const MARK = ' peer hook --backend ';
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Claude Code starts the pane's hook at session start: a `SessionStart` command hook in
 * `.claude/settings.local.json`, merged the way the runs plugin writes a run's hooks (other keys
 * and other hooks kept; an earlier mesh entry replaced, so writing twice leaves one). The hook is
 * backgrounded (Claude Code waits for hook commands) and told the agent's pid: the hook shell's
 * parent, `$PPID`, is Claude Code itself. PLINTH_URL and PLINTH_TOKEN come from the environment
 * Claude Code was started in.
 */
export async function writeClaudeSessionHook(cwd: string, o: { name: string; circle?: string; plinth: string[] }): Promise<string> {
  const dir = join(cwd, '.claude');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'settings.local.json');
  let settings: any = {};
  try { settings = JSON.parse(await readFile(file, 'utf8')); } catch { /* none yet */ }
  const command = `${o.plinth.map(quote).join(' ')} peer hook --backend claude-code --name ${quote(o.name)}${o.circle ? ` --circle ${quote(o.circle)}` : ''} --agent-pid "$PPID" >/dev/null 2>&1 &`;
  const others = (settings.hooks?.SessionStart ?? []).filter((e: any) => !(e.hooks ?? []).some((h: any) => typeof h.command === 'string' && h.command.includes(MARK)));
  settings.hooks = { ...(settings.hooks ?? {}), SessionStart: [...others, { hooks: [{ type: 'command', command }] }] };
  await writeFile(file, JSON.stringify(settings, null, 2) + '\n');
  return file;
}
