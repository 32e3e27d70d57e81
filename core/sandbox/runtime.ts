import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT_DIR } from '../version';
import type { SandboxManager as Manager } from '@anthropic-ai/sandbox-runtime';

type SandboxManagerApi = typeof Manager;

const SOCAT_DIES_WITH_PARENT = join(ROOT_DIR, 'bin', 'socat-dies-with-parent.sh');

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

  /**
   * The socat the runtime runs, on the host for its network bridge and inside each sandbox: one
   * that dies with its parent (setpriv --pdeathsig), so that no bridge outlives a SIGKILLed kernel.
   * Plain socat where setpriv (util-linux) is missing.
   */
  socatPath(): string | undefined {
    return existsSync(SOCAT_DIES_WITH_PARENT) && ['/usr/bin/setpriv', '/bin/setpriv'].some(existsSync) ? SOCAT_DIES_WITH_PARENT : undefined;
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
      ...(this.socatPath() ? { socatPath: this.socatPath() } : {}),
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
