import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestKernel, type TestKernel } from '../testing';
import { ROOT } from './_lib';

/** A kernel serving bench/fixtures/ping, in-process or in its sandbox. */
export function pingKernel(isolation: 'in-process' | 'sandbox'): Promise<TestKernel> {
  return createTestKernel({ plugins: [{ path: join(ROOT, 'bench', 'fixtures', 'ping'), isolation }] });
}

/** Processes below this one (the sandboxed plugins' bubblewrap, shell and node), from /proc. */
export function descendantCount(root = process.pid): number {
  const parents = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { parents.set(Number(d), Number(readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1])); } catch { /* gone */ }
  }
  const below = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parents) if (!below.has(pid) && below.has(ppid)) { below.add(pid); grew = true; }
  }
  return below.size - 1;
}

export async function servedWithin(k: TestKernel, ms: number): Promise<void> {
  const started = performance.now();
  while ((await fetch(`${k.baseUrl}/api/ping/version`)).status !== 200) {
    if (performance.now() - started > ms) throw new Error(`not served within ${ms} ms`);
  }
}
