import { dirname, join } from 'node:path';
import type { SandboxManager as Manager } from '@anthropic-ai/sandbox-runtime';

type SandboxManagerApi = typeof Manager;

/**
 * `@anthropic-ai/sandbox-runtime` keeps one proxy and one configuration per process (its
 * `SandboxManager` is a module singleton), while a process may hold several kernels (tests, the
 * cluster bench). So it is initialised once, with no host allowed and nothing extra writable, by
 * the first kernel that needs it, and reset when the last one lets go; each program's own folders
 * and hosts are per-command (see KernelSandbox.wrap).
 */
class SandboxRuntime {
  private users = 0;
  private ready: Promise<void> | undefined;
  /** The last reset: an initialise waits for it, so the two never overlap. */
  private resetting: Promise<void> = Promise.resolve();
  private mod: SandboxManagerApi | undefined;

  manager(): SandboxManagerApi {
    // Loaded on first use: an ES module (require(esm), Node ≥ 20.19), and most kernels never spawn.
    return (this.mod ??= require('@anthropic-ai/sandbox-runtime').SandboxManager as SandboxManagerApi);
  }

  vendorDir(): string {
    return join(dirname(dirname(require.resolve('@anthropic-ai/sandbox-runtime'))), 'vendor');
  }

  async acquire(bwrapPath?: string): Promise<void> {
    this.users++;
    this.ready ??= this.resetting.then(() => this.manager().initialize({
      network: { allowedDomains: [], deniedDomains: [] },
      filesystem: { denyRead: [], allowWrite: [], denyWrite: [] },
      ...(bwrapPath ? { bwrapPath } : {}),
    } as any)).catch(err => { this.ready = undefined; throw err; });
    try { await this.ready; } catch (err) { this.users--; throw err; }
  }

  async release(): Promise<void> {
    if (--this.users > 0 || !this.ready) return;
    const ready = this.ready;
    this.ready = undefined;
    // Chained at once, so that an acquire coming meanwhile initialises only after this reset.
    this.resetting = ready.catch(() => undefined).then(() => this.manager().reset()).catch(() => undefined);
    await this.resetting;
  }
}

export const sandboxRuntime: SandboxRuntime = ((globalThis as any)[Symbol.for('plinth.sandbox.runtime')] ??= new SandboxRuntime());
