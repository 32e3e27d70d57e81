import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface CliResult { status: number | null; stdout: string; stderr: string; json(): any }

/** Runs the real `bin/plinth.js` as a child process with a clean environment (no provider keys leak in). */
export function plinth(args: string[], options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [join(ROOT, 'bin', 'plinth.js'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PLINTH_WATCH: '0', PLINTH_LOG_STDOUT: '0', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', d => (stdout += d));
    proc.stderr.on('data', d => (stderr += d));
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`plinth ${args.join(' ')} timed out\n${stdout}\n${stderr}`)); }, options.timeoutMs ?? 30_000);
    proc.on('exit', status => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, json: () => JSON.parse(stdout) });
    });
    proc.stdin.end(options.input ?? '');
  });
}

/** A loopback URL where nothing listens. */
export async function closedPortUrl(): Promise<string> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>(r => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as any).port;
  await new Promise(r => srv.close(r));
  return `http://127.0.0.1:${port}`;
}
