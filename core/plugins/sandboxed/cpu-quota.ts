import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * A sandboxed plugin's share of the CPU, without cgroups (which an unprivileged kernel cannot
 * count on). Its process runs at nice 10, below the kernel's threads. Under autogroup scheduling
 * (Linux's default where enabled) nice values weigh only within a session, and bubblewrap gives
 * the plugin a session of its own: that session then weighs as much as the kernel's, never more,
 * so however many threads the plugin keeps busy, the kernel keeps its share. (Lowering the
 * session's weight too was tried: on a loaded machine it left the plugin too little to answer its
 * own requests in time.) On top, it spends from a CPU budget that refills at a rate (a token
 * bucket): a plugin that keeps using more than its rate empties it and is restarted as after a
 * crash. Short bursts are fine; a busy loop is not.
 */
export const CPU_DEFAULTS = {
  /** The nice value of the plugin's process: `PLINTH_SANDBOX_NICE` (0 leaves it as the kernel's). */
  get nice(): number { const n = Number(process.env.PLINTH_SANDBOX_NICE ?? 10); return Number.isInteger(n) && n >= 0 && n <= 19 ? n : 10; },
  /** Sustained share of one core: `PLINTH_SANDBOX_CPU_PERCENT`. */
  get percent(): number { return Number(process.env.PLINTH_SANDBOX_CPU_PERCENT) || 50; },
  /** CPU time it may use above that rate before it is restarted: `PLINTH_SANDBOX_CPU_BURST_MS`. */
  get burstMs(): number { return Number(process.env.PLINTH_SANDBOX_CPU_BURST_MS) || 10_000; },
};

/**
 * Lowers every thread of the process tree to nice 10 (on Linux a nice value is a thread's, and
 * threads started later inherit it). Done once the process is up rather than with `nice` at exec,
 * so that its start is not slowed on a loaded machine; it cannot raise its priority back
 * (RLIMIT_NICE is 0 for an unprivileged process).
 */
export function deprioritise(root: number): void {
  const nice = CPU_DEFAULTS.nice;
  if (nice === 0) return;
  for (const pid of processTree(root)) {
    let tasks: string[] = [];
    try { tasks = readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const tid of tasks) { try { setPriority(Number(tid), nice); } catch { /* gone meanwhile */ } }
  }
}

/** The process and everything below it (bubblewrap, its init, node, what node started), from /proc. */
export function processTree(root: number): number[] {
  const out: number[] = [];
  const visit = (pid: number) => {
    out.push(pid);
    let tasks: string[] = [];
    try { tasks = readdirSync(`/proc/${pid}/task`); } catch { return; }
    for (const t of tasks) {
      let children = '';
      try { children = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8'); } catch { /* gone */ }
      for (const c of children.split(' ')) if (c.trim()) visit(Number(c));
    }
  };
  visit(root);
  return out;
}

/** CPU time (user + system) the tree has used, in ms; clock ticks are 10 ms on Linux (USER_HZ 100). */
export function treeCpuMs(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch { /* gone meanwhile */ }
  }
  return ticks * 10;
}

/** The token bucket: `sample` after each reading; false once the plugin has spent its budget. */
export class CpuBudget {
  private last: { at: number; cpuMs: number } | undefined;
  private balance: number;

  constructor(private readonly percent = CPU_DEFAULTS.percent, private readonly burstMs = CPU_DEFAULTS.burstMs) {
    this.balance = burstMs;
  }

  sample(cpuMs: number, now = performance.now()): boolean {
    if (this.last) this.balance = Math.min(this.burstMs, this.balance + (now - this.last.at) * this.percent / 100 - (cpuMs - this.last.cpuMs));
    this.last = { at: now, cpuMs };
    return this.balance > 0;
  }

  describe(): string {
    return `it used more than ${this.percent}% of a CPU core for longer than its ${this.burstMs / 1000} s allowance (the CPU quota: PLINTH_SANDBOX_CPU_PERCENT, PLINTH_SANDBOX_CPU_BURST_MS)`;
  }
}
