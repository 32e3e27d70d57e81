import * as pty from 'node-pty';

/**
 * The environment a CLI gets: a minimal one, never the kernel's (which holds its secrets and
 * tokens). Only what a terminal program needs, plus what the run passes on purpose.
 */
export function minimalEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    TERM: 'xterm-256color',
    LANG: process.env.LANG && /UTF-8/i.test(process.env.LANG) ? process.env.LANG : 'C.UTF-8',
  };
  return { ...env, ...extra };
}

const TAIL_BYTES = 256 * 1024;

/**
 * A program in a pseudo-terminal. node-pty makes the child a session and process-group leader,
 * so signalling the negative pid reaches everything it started (shells, tool subprocesses).
 */
export class PtyProcess {
  readonly pid: number;
  private readonly term: pty.IPty;
  private tail = '';
  private readonly dataListeners = new Set<(data: string) => void>();
  readonly exited: Promise<{ exitCode: number; signal?: number }>;
  private hasExited = false;
  private received = 0;

  constructor(file: string, args: string[], options: { cwd: string; env: Record<string, string>; cols?: number; rows?: number }) {
    this.term = pty.spawn(file, args, { name: 'xterm-256color', cwd: options.cwd, env: options.env, cols: options.cols ?? 120, rows: options.rows ?? 40 });
    this.pid = this.term.pid;
    this.term.onData(data => {
      this.received += data.length;
      this.tail = (this.tail + data).slice(-TAIL_BYTES);
      for (const fn of this.dataListeners) fn(data);
    });
    this.exited = new Promise(resolve => this.term.onExit(e => { this.hasExited = true; resolve(e); }));
  }

  get running(): boolean { return !this.hasExited; }
  /** The last output (for the failure message and the adapter's result parser). */
  output(): string { return this.tail; }

  onData(fn: (data: string) => void): () => void {
    this.dataListeners.add(fn);
    return () => { this.dataListeners.delete(fn); };
  }

  /** Resolves once no output has come for `ms` (at most `maxMs`). */
  async quiet(ms: number, maxMs: number): Promise<void> {
    const end = Date.now() + maxMs;
    for (;;) {
      const before = this.received;
      await new Promise(r => setTimeout(r, ms));
      if (this.received === before || Date.now() > end) return;
    }
  }

  write(data: string): void { if (!this.hasExited) this.term.write(data); }
  resize(cols: number, rows: number): void { if (!this.hasExited) this.term.resize(cols, rows); }
  pause(): void { this.term.pause(); }
  resume(): void { this.term.resume(); }

  /** SIGTERM to the whole process group, SIGKILL after `graceMs`; resolves when the leader is gone. */
  async killTree(graceMs = 2000): Promise<void> {
    signalGroup(this.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), graceMs);
    // A paused PTY would hold back the exit notification.
    this.term.resume();
    await this.exited;
    clearTimeout(timer);
    // Children that ignored SIGTERM, or daemonised within the group, go too.
    signalGroup(this.pid, 'SIGKILL');
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pid, signal); } catch { /* group already gone */ }
  try { process.kill(pid, signal); } catch { /* leader already gone */ }
}
