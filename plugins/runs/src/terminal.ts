import { closeSync, constants, openSync } from 'node:fs';
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
    this.keepTail();
  }

  /**
   * The tail of a fast writer's output was lost under load (measured: 10 concurrent `seq` runs of
   * 3.2 MB each lost 5–15 KB in 7 of 10 PTYs): when the child closes the PTY's slave side, Linux
   * hangs the master up and unread buffered output can be dropped, and node-pty (1.1,
   * lib/unixTerminal.js) also destroys its socket 200 ms after the exit. So this process holds its
   * own descriptor on the slave (no hangup while it is open), and the socket's destroy is deferred
   * until the output has been quiet for a moment (bounded); then the slave is closed. With another
   * node-pty that lacks these private fields, behaviour is node-pty's own.
   */
  private keepTail(): void {
    const sock = (this.term as any)._socket;
    const slavePath = (this.term as any)._pty;
    if (!sock || typeof sock.destroy !== 'function' || typeof slavePath !== 'string') return;
    let slave: number | undefined;
    try { slave = openSync(slavePath, constants.O_RDWR | constants.O_NOCTTY); } catch { return; }
    const destroy = sock.destroy.bind(sock);
    let deferred = false;
    const release = () => { if (slave !== undefined) { try { closeSync(slave); } catch { /* closed */ } slave = undefined; } };
    sock.destroy = (...args: unknown[]) => {
      if (deferred || sock.destroyed) { release(); return destroy(...args); }
      deferred = true;
      sock.resume();
      void this.quiet(300, 10_000).then(() => { release(); destroy(...args); });
      return sock;
    };
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
    // Waits on real output from a real process: wall time and Node's timer, whatever a test's clock says.
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
    // Node's timer, not ctx.timers: killTree runs during dispose too, when the generation's timers no longer fire.
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
