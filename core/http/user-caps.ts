import { PlinthError } from '../../sdk';

/**
 * How many long-lived connections (SSE streams, WebSockets) one user may hold open at once, so
 * that one account cannot exhaust the server's sockets and memory.
 */
export class PerUserCap {
  private readonly open = new Map<string, number>();

  /**
   * `cluster`: the connections the user holds on other kernels (through the cluster link, plugins/cluster),
   * and where this kernel's counts are recorded for them.
   */
  constructor(private readonly what: string, private readonly max: () => number, private readonly cluster?: {
    elsewhere(userId: string): number; changed(userId: string, n: number): void;
  }) {}

  /** Takes a slot and answers its release (safe to call twice), or throws 429 at the cap. */
  acquire(userId: string): () => void {
    const n = this.open.get(userId) ?? 0;
    const max = this.max();
    if (n + (this.cluster?.elsewhere(userId) ?? 0) >= max) {
      throw new PlinthError(429, 'PLINTH_ERR_TOO_MANY_CONNECTIONS', `at most ${max} open ${this.what} per user; close one first`, { limit: max, kind: this.what });
    }
    this.open.set(userId, n + 1);
    this.cluster?.changed(userId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(userId) ?? 1) - 1;
      if (left > 0) this.open.set(userId, left); else this.open.delete(userId);
      this.cluster?.changed(userId, left);
    };
  }

  count(userId: string): number { return this.open.get(userId) ?? 0; }
}
