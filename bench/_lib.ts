import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..');

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
export const median = (v: number[]) => percentile(v, 50);
export const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

export function log(msg: string): void {
  process.stderr.write(msg + '\n');
}

export interface Child { proc: ChildProcess; baseUrl: string; stop(): Promise<void> }

/** Spawns a server script and waits for its `listening on` line. */
export function spawnServer(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<Child> {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in ${timeoutMs} ms: ${out}`)), timeoutMs);
    proc.stderr!.on('data', d => (out += d));
    proc.stdout!.on('data', d => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          proc, baseUrl: m[1],
          stop: () => new Promise<void>(r => { proc.once('exit', () => r()); proc.kill('SIGTERM'); setTimeout(() => proc.kill('SIGKILL'), 5000).unref(); }),
        });
      }
    });
    proc.once('exit', code => { clearTimeout(timer); reject(new Error(`exited ${code}: ${out}`)); });
  });
}

export function tempDataDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `plinth-bench-${prefix}-`));
}

export function registryWith(dir: string, plugins: Array<{ id: string; path: string; config?: object }>): string {
  const file = join(dir, 'registry.json');
  writeFileSync(file, JSON.stringify({ plugins: plugins.map(p => ({ enabled: true, config: {}, ...p })) }, null, 2));
  return file;
}

export async function autocannon(opts: Record<string, unknown>): Promise<any> {
  const run = require('autocannon');
  return new Promise((resolve, reject) => run(opts, (err: Error, res: any) => (err ? reject(err) : resolve(res))));
}

/** A load that runs until stopped (bounded by `duration` all the same). */
export function startAutocannon(opts: Record<string, unknown>): { stop(): void; done: Promise<any> } {
  const run = require('autocannon');
  let instance: any;
  const done = new Promise((resolve, reject) => { instance = run(opts, (err: Error, res: any) => (err ? reject(err) : resolve(res))); });
  return { stop: () => instance.stop(), done };
}
