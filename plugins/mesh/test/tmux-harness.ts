import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestKernel } from 'plinth/testing';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'plinth.js');
const AGENT = join(__dirname, 'fixtures', 'pane-agent.js');
export const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

export async function until<T>(fn: () => Promise<T | undefined | false | null> | T | undefined | false | null, ms = 15_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== null && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`${what} not met in ${ms} ms`);
    await sleep(50);
  }
}

function env(): NodeJS.ProcessEnv {
  const e = { ...process.env };
  delete e.TMUX;
  delete e.TMUX_PANE;
  return e;
}

export interface Pane { id: string; name: string; log: string; hookPid(): number; agentPid(): number; screen(): string; keys(text: string): void }

/**
 * A private tmux server for one test file (`tmux -L plinth-test-<pid>-<n> -f /dev/null`, TMUX
 * unset), never the user's own; `stop()` kills it.
 */
export class TmuxServer {
  private static count = 0;
  readonly label = `plinth-test-${process.pid}-${TmuxServer.count++}`;
  readonly dir = mkdtempSync(join(tmpdir(), 'plinth-mesh-'));
  private session: string | undefined;

  run(args: string[]): string {
    return execFileSync('tmux', ['-L', this.label, '-f', '/dev/null', ...args], { env: env(), encoding: 'utf8' });
  }

  get socket(): string { return this.run(['display-message', '-p', '#{socket_path}']).trim(); }

  /** A pane running the stand-in agent, which starts `plinth peer hook` against `url` as the token's user. */
  startAgent(name: string, o: { url: string; token: string; circle?: string; autoAck?: boolean; hookArgs?: string[] }): Pane {
    const log = join(this.dir, `${name}-${Date.now()}.log`);
    const pane = this.startProgram(name, [process.execPath, AGENT, name], {
      circle: o.circle, log,
      vars: { PLINTH_URL: o.url, PLINTH_TOKEN: o.token, PLINTH_BIN: BIN, HOOK_LOG: log, AUTO_ACK: o.autoAck === false ? '0' : '1', HOOK_ARGS: JSON.stringify(o.hookArgs ?? []) },
    });
    return pane;
  }

  /**
   * A pane running `argv` (in `cwd`) with `vars` in its environment, in the session `circle`.
   * TEST_RUNNER_PID is always set: the programs exit when this test process is gone.
   */
  startProgram(name: string, argv: string[], o: { vars: Record<string, string>; circle?: string; cwd?: string; log?: string }): Pane {
    const vars = { ...o.vars, TEST_RUNNER_PID: String(process.pid) };
    const e = Object.entries(vars).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const cwd = o.cwd ? ['-c', o.cwd] : [];
    const cmd = argv.map(a => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const circle = o.circle ?? 'circle';
    const id = (this.session === circle
      ? this.run(['new-window', '-P', '-F', '#{pane_id}', '-t', circle, ...cwd, ...e, cmd])
      : this.run(['new-session', '-d', '-P', '-F', '#{pane_id}', '-s', circle, '-x', '250', '-y', '50', ...cwd, ...e, cmd])).trim();
    this.session = circle;
    const log = o.log ?? join(this.dir, `${name}-${Date.now()}.log`);
    const pane: Pane = {
      id, name, log,
      hookPid: () => Number(readFileSync(log + '.pid', 'utf8')),
      agentPid: () => Number(/(?:AGENT \S+|FAKE \S+) pid=(\d+)/.exec(pane.screen())?.[1]),
      screen: () => { try { return this.run(['capture-pane', '-p', '-J', '-t', id, '-S', '-200']); } catch { return ''; } },
      keys: (text: string) => { this.run(['send-keys', '-t', id, '-l', text]); this.run(['send-keys', '-t', id, 'Enter']); },
    };
    return pane;
  }

  /** Another hook for a pane (as a session hook or rehook would start it), with the pane's TMUX variables. */
  startHook(pane: Pane, o: { url: string; token: string; args: string[] }): { pid: number; exited: Promise<number | null> } {
    const socket = this.socket;
    const serverPid = this.run(['display-message', '-p', '#{pid}']).trim();
    const log = openSync(pane.log, 'a');
    const child = spawn(process.execPath, [BIN, 'peer', 'hook', '--backend', 'command', '--name', pane.name, '--agent-pid', String(pane.agentPid()), ...o.args], {
      env: { ...env(), TMUX: `${socket},${serverPid},0`, TMUX_PANE: pane.id, PLINTH_URL: o.url, PLINTH_TOKEN: o.token }, stdio: ['ignore', log, log],
    });
    return { pid: child.pid!, exited: new Promise(r => child.on('exit', code => r(code))) };
  }

  stop(): void {
    let socket: string | undefined;
    try { socket = this.socket; } catch { /* no server */ }
    try { this.run(['kill-server']); } catch { /* already gone */ }
    if (socket) rmSync(socket, { force: true });
  }
}

export function alive(pid: number): boolean {
  try { process.kill(pid, 0); return existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z'); } catch { return false; }
}

/** Requests to a kernel as one user (its token). */
export function asUser(k: TestKernel, token: string) {
  return {
    get: (path: string) => k.request('GET', path, { token }),
    post: (path: string, body: unknown = {}) => k.request('POST', path, { token, body }),
    del: (path: string) => k.request('DELETE', path, { token }),
  };
}
