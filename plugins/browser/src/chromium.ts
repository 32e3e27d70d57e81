import { accessSync, constants, readFileSync, readdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { errorCodes } from './errors';

/**
 * Starting the system's Chromium. Why not inside the kernel's sandbox (core.sandbox): its
 * bubblewrap runs every program under sandbox-runtime's seccomp filter, which refuses
 * socket(AF_UNIX) — Chromium needs it for its process singleton and IPC and aborts at start
 * ("process_singleton_posix.cc: socket() failed: Operation not permitted"); the runtime's
 * `allowAllUnixSockets` is process-wide, and turning it on would weaken every sandboxed program.
 * Instead Chromium has no network of its own: every request its pages make is intercepted and
 * answered by the kernel through egress (egress-router.ts), WebSockets are closed, service workers
 * blocked, and anything that escapes interception goes to a dead proxy (127.0.0.1:9). It runs
 * with its own sandbox, except as root, where Chromium refuses it (crbug.com/638180).
 */
export function chromiumArgs(pagesPerSession: number, marker: string): string[] {
  return [
    // Unknown to Chromium and ignored by it: finds this browser's processes for the memory cap.
    `--plinth-browser=${marker}`,
    '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--no-default-browser-check', '--disable-default-apps', '--disable-extensions',
    '--mute-audio', '--dns-prefetch-disable', '--disable-features=NetworkPrediction,MediaRouter,OptimizationHints',
    '--proxy-server=http://127.0.0.1:9', '--proxy-bypass-list=<-loopback>',
    `--renderer-process-limit=${pagesPerSession + 1}`,
  ];
}

/** Why Chromium cannot start here, or undefined when its binary is there and executable. */
export function chromiumMissing(path: string): string | undefined {
  try {
    accessSync(path, constants.X_OK);
    return undefined;
  } catch {
    return `chromium is not installed at ${path} (apt-get install chromium, or set the browser plugin's chromiumPath)`;
  }
}

export async function launchChromium(path: string, pagesPerSession: number, marker: string, timeoutMs: number): Promise<Browser> {
  const missing = chromiumMissing(path);
  if (missing) throw errorCodes.error('PLINTH_ERR_BROWSER_UNAVAILABLE', missing);
  const { chromium } = await import('playwright-core');
  try {
    return await chromium.launch({
      executablePath: path, headless: true, args: chromiumArgs(pagesPerSession, marker), timeout: timeoutMs,
      chromiumSandbox: process.getuid?.() !== 0, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
      // Nothing of the kernel's environment (secrets) reaches the browser.
      env: { PATH: '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' },
    });
  } catch (err) {
    throw errorCodes.error('PLINTH_ERR_BROWSER_UNAVAILABLE', `chromium at ${path} did not start: ${String((err as Error).message).split('\n')[0]}`, { cause: err });
  }
}

/** Memory in bytes (PSS) of the processes whose command line names `marker` and of their descendants. */
export function residentBytes(marker: string): number {
  const children = new Map<number, number[]>();
  const roots: number[] = [];
  let total = 0;
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      (children.get(ppid) ?? children.set(ppid, []).get(ppid)!).push(pid);
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) roots.push(pid);
    } catch { /* the process ended meanwhile */ }
  }
  const seen = new Set<number>();
  const visit = (pid: number) => {
    if (seen.has(pid)) return;
    seen.add(pid);
    try {
      // Proportional set size: Chromium's processes share much of their memory, which RSS counts once per process.
      const pss = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (pss) total += Number(pss[1]) * 1024;
    } catch { /* ended */ }
    for (const c of children.get(pid) ?? []) visit(c);
  };
  roots.forEach(visit);
  return total;
}
