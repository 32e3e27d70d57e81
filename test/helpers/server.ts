import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const ROOT = join(__dirname, '..', '..');

export interface ServerProcess {
  baseUrl: string;
  proc: ChildProcess;
  adminToken: string;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if the process has not exited within `graceMs`: a test's cleanup never waits unbounded. */
  stop(graceMs?: number): Promise<number | null>;
}

/** Starts the real server as a child process, the way `npm start` does, and waits for its listening line. */
export async function startServer(env: Record<string, string>, timeoutMs = 20_000): Promise<ServerProcess> {
  const adminToken = env.PLINTH_ADMIN_TOKEN ?? 'plt_srv_' + randomBytes(12).toString('hex');
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'plinth.js'), 'start'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PLINTH_PORT: '0', PLINTH_ADMIN_TOKEN: adminToken, PLINTH_WATCH: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', d => (out += d));
  proc.stderr!.on('data', d => (out += d));
  const exited = new Promise<number | null>(resolve => proc.on('exit', code => resolve(code)));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(timer); proc.stdout!.off('data', onData); resolve(m[1]); }
    };
    proc.stdout!.on('data', onData);
    void exited.then(code => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${out}`)); });
  });
  const stop = async (graceMs = 10_000) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return exited;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    try { return await exited; } finally { clearTimeout(timer); }
  };
  return { baseUrl, proc, adminToken, output: () => out, exited, kill: (signal = 'SIGTERM') => { proc.kill(signal); }, stop };
}

/** Polls `fn` (a throw counts as not yet) until it gives a truthy value, or fails naming `what` after `ms`. */
export async function until<T>(fn: () => Promise<T | undefined | false>, ms = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise(r => setTimeout(r, 25));
  }
}
