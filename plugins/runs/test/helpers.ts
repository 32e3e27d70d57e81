import { sseFrames, waitFor } from 'plinth/testing';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

export const AGENT = join(__dirname, 'fixtures', 'agent.sh');
export const FIXTURE_AGENTS = join(__dirname, 'fixtures', 'cli-agents');
export const PLUGIN = join(__dirname, '..');

export const gitIn = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();

/** Where the tests' repositories live: the runs plugin's `repoRoots` in the tests that need it. */
export const REPO_BASE = mkdtempSync(join(tmpdir(), 'plinth-repos-'));

/** A real repository with two commits on `main` (under REPO_BASE unless told otherwise). */
export function makeRepo(base = REPO_BASE): string {
  const dir = mkdtempSync(join(base, 'plinth-repo-'));
  gitIn(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'README.md'), 'line one\nline two\nline three\n');
  writeFileSync(join(dir, 'old.txt'), 'to be removed\n');
  gitIn(dir, 'add', '-A');
  gitIn(dir, 'commit', '-q', '-m', 'first');
  writeFileSync(join(dir, 'src.txt'), 'source\n');
  gitIn(dir, 'add', '-A');
  gitIn(dir, 'commit', '-q', '-m', 'second');
  return dir;
}

export function cliAgent(id: string, mode: string, extra: string[] = [], providerConfig: Record<string, unknown> = {}) {
  return { id, kind: 'cli', cli_name: 'command', provider_config: { command: AGENT, args: [mode, ...extra], ...providerConfig } };
}

export const until = <T>(fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 10_000, what = 'condition'): Promise<T> =>
  waitFor(fn, what, ms, 50) as Promise<T>;

export function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Whether `sleep <marker>` runs anywhere on the machine (a sandboxed child has no pid we could know). */
export function sleeping(marker: string): boolean {
  return readdirSync('/proc').some(p => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sleep\0${marker}\0`; } catch { return false; } });
}

/** Reads an SSE stream into parsed frames until `stop` says so or the time runs out. */
export async function readSse(url: string, token: string, stop: (frames: Array<{ id: string; event: string; data: any }>) => boolean, ms = 10_000) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  const frames: Array<{ id: string; event: string; data: any }> = [];
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
    for await (const f of sseFrames(res.body!)) {
      if (f.id === undefined) continue;
      frames.push(f as { id: string; event: string; data: any });
      if (stop(frames)) break;
    }
  } catch (err: any) {
    if (err.name !== 'AbortError') throw err;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return frames;
}

export function openTerminal(url: string, headers: Record<string, string>) {
  return new Promise<{ ws: WebSocket; frames: any[]; wait(pred: (f: any) => boolean, ms?: number): Promise<any> }>((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const frames: any[] = [];
    ws.on('message', d => frames.push(JSON.parse(String(d))));
    ws.once('unexpected-response', (_q, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
    ws.once('open', () => resolve({
      ws, frames,
      wait: (pred, ms = 5000) => until(() => frames.find(pred), ms, 'terminal frame'),
    }));
  });
}
