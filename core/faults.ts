import { AsyncLocalStorage } from 'node:async_hooks';
import { sep } from 'node:path';
import type { Logger } from '../sdk';
import type { KernelEventBus } from './events';
import type { PluginState } from './plugins/plugin-host';

interface Scope { faults: PluginFaults; pluginId: string }

/**
 * Which plugin started the work now running. Node carries the store through every promise,
 * timer and listener created inside `run`, and into the process's `uncaughtException` /
 * `unhandledRejection` handlers, so a fault raised long after setup is still tied to its plugin.
 */
const scope = new AsyncLocalStorage<Scope>();

export interface FaultPolicyOptions {
  log: Logger;
  bus: KernelEventBus;
  plugins(): Iterable<PluginState>;
  /** `exit` (the `plinth start` process): a fault in the kernel itself logs and ends the process. `observe` (the in-process test kernel): it is only logged. */
  onKernelFault: 'exit' | 'observe';
}

/**
 * The process-wide policy for errors nothing caught: one tied to a plugin marks that plugin
 * `error` (GET /api/plugins, a `plugin.failed` event, the log) and the kernel serves on; only
 * a fault of the kernel itself stops the process. Installed by the kernel at start and removed
 * at stop, so several test kernels in one process (and the test runner's own handlers) coexist.
 */
export class PluginFaults {
  private installed = false;

  constructor(private readonly o: FaultPolicyOptions) {}

  /** Runs `fn` (and all it starts) as `pluginId`'s work. */
  run<T>(pluginId: string, fn: () => T): T {
    return scope.run({ faults: this, pluginId }, fn);
  }

  /** The plugin a fault belongs to: the scope it was raised in, else the first stack frame inside a plugin's folder. */
  pluginOf(err: unknown): { pluginId: string } | 'elsewhere' | undefined {
    const store = scope.getStore();
    if (store) return store.faults === this ? { pluginId: store.pluginId } : 'elsewhere';
    const stack = typeof (err as Error)?.stack === 'string' ? (err as Error).stack! : '';
    if (!stack) return undefined;
    const frames = stack.split('\n').slice(1);
    for (const frame of frames) {
      for (const state of this.o.plugins()) {
        const dir = state.dir.endsWith(sep) ? state.dir : state.dir + sep;
        if (frame.includes(dir) && !frame.includes(`${dir}node_modules${sep}`)) return { pluginId: state.id };
      }
    }
    return undefined;
  }

  /** Marks the plugin `error` with the reason; the plugin's routes keep serving until an admin reloads or disables it. */
  pluginFailed(pluginId: string, err: unknown, origin: string): void {
    scope.exit(() => {
      const state = [...this.o.plugins()].find(s => s.id === pluginId);
      const message = `${origin}: ${(err as Error)?.message ?? String(err)}`;
      this.o.log.error('plugin fault', { plugin: pluginId, origin, err });
      if (!state || state.status === 'disabled') return;
      const first = state.status !== 'error';
      state.status = 'error';
      state.error = { code: 'PLINTH_ERR_PLUGIN_FAULT', message, at: new Date().toISOString() };
      // One event per fall, not one per tick of an interval that keeps throwing.
      if (first) this.o.bus.publish('plugin.failed', { id: pluginId, error: state.error }, { audience: 'admin' }).catch(() => undefined);
    });
  }

  private readonly onUncaught = (err: unknown) => this.handle(err, 'uncaughtException');
  private readonly onUnhandled = (reason: unknown) => this.handle(reason, 'unhandledRejection');

  private handle(err: unknown, origin: string): void {
    const owner = this.pluginOf(err);
    if (owner === 'elsewhere') return;
    if (owner) return this.pluginFailed(owner.pluginId, err, origin);
    this.o.log.error('kernel fault', { origin, err });
    if (this.o.onKernelFault === 'exit') {
      process.stderr.write(`plinth: ${origin} in the kernel; exiting\n${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    }
  }

  install(): void {
    if (this.installed) return;
    this.installed = true;
    process.on('uncaughtException', this.onUncaught);
    process.on('unhandledRejection', this.onUnhandled);
  }

  uninstall(): void {
    if (!this.installed) return;
    this.installed = false;
    process.off('uncaughtException', this.onUncaught);
    process.off('unhandledRejection', this.onUnhandled);
  }
}
