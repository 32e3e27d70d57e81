import { sep } from 'node:path';
import type { Logger } from '../sdk';
import type { KernelEventBus } from './events';
import type { PluginState } from './plugins/plugin-host';

export interface FaultPolicyOptions {
  log: Logger;
  bus: KernelEventBus;
  plugins(): Iterable<PluginState>;
  /** `exit` (the `plinth start` process): a fault in the kernel itself logs and ends the process. `observe` (the in-process test kernel): it is only logged. */
  onKernelFault: 'exit' | 'observe';
}

interface Owner { faults: PluginFaults; pluginId: string }

/** The kernels running in this process (tests start several), so each fault is tied to the right one. */
const kernels = new Set<PluginFaults>();

/**
 * Which plugin an error nothing caught belongs to: the innermost stack frame (async frames
 * included) in a folder a running kernel loaded a plugin from, outside its node_modules.
 * Everything the kernel hands a plugin (route and WebSocket handlers, ctx timers, event
 * handlers) already catches its own failures; what reaches the process is work a plugin started
 * by itself (a raw timer, a promise nobody awaits), whose stack names the plugin's code.
 *
 * Why not AsyncLocalStorage: on Node 20 entering one turns on async_hooks promise hooks for the
 * whole process, which every promise of every request pays (~5 µs of ~48 µs of server CPU a
 * request, bench/kernel-overhead.ts). What the stack cannot tell: an error raised wholly
 * inside a library (an 'error' event nobody listens to) is the kernel's; and one folder served
 * by two kernels of one process is tied to that plugin in both.
 */
function ownersOf(err: unknown): Owner[] {
  const stack = typeof (err as Error)?.stack === 'string' ? (err as Error).stack! : '';
  for (const frame of stack.split('\n').slice(1)) {
    const owners: Owner[] = [];
    for (const faults of kernels) {
      for (const state of faults.o.plugins()) {
        const dir = state.dir.endsWith(sep) ? state.dir : state.dir + sep;
        if (frame.includes(dir) && !frame.includes(`${dir}node_modules${sep}`)) owners.push({ faults, pluginId: state.id });
      }
    }
    if (owners.length) return owners;
  }
  return [];
}

/**
 * The process-wide policy for errors nothing caught: one tied to a plugin marks that plugin
 * `error` (GET /api/plugins, a `plugin.failed` event, the log) and the kernel serves on; only
 * a fault of the kernel itself stops the process. Installed by the kernel at start and removed
 * at stop, so several test kernels in one process (and the test runner's own handlers) coexist.
 */
export class PluginFaults {
  private installed = false;

  constructor(readonly o: FaultPolicyOptions) {}

  /** Marks the plugin `error` with the reason; the plugin's routes keep serving until an admin reloads or disables it. */
  pluginFailed(pluginId: string, err: unknown, origin: string): void {
    const state = [...this.o.plugins()].find(s => s.id === pluginId);
    const message = `${origin}: ${(err as Error)?.message ?? String(err)}`;
    this.o.log.error('plugin fault', { plugin: pluginId, origin, err });
    if (!state || state.status === 'disabled') return;
    const first = state.status !== 'error';
    state.status = 'error';
    state.error = { code: 'PLINTH_ERR_PLUGIN_FAULT', message, at: new Date().toISOString() };
    // One event per fall, not one per tick of an interval that keeps throwing.
    if (first) this.o.bus.publish('plugin.failed', { id: pluginId, error: state.error }, { audience: 'admin' }).catch(() => undefined);
  }

  private readonly onUncaught = (err: unknown) => this.handle(err, 'uncaughtException');
  private readonly onUnhandled = (reason: unknown) => this.handle(reason, 'unhandledRejection');

  private handle(err: unknown, origin: string): void {
    const owners = ownersOf(err);
    const mine = owners.filter(o => o.faults === this);
    for (const o of mine) this.pluginFailed(o.pluginId, err, origin);
    // Another kernel of this process owns it; its own handler reports it.
    if (owners.length) return;
    this.o.log.error('kernel fault', { origin, err });
    if (this.o.onKernelFault === 'exit') {
      process.stderr.write(`plinth: ${origin} in the kernel; exiting\n${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    }
  }

  install(): void {
    if (this.installed) return;
    this.installed = true;
    kernels.add(this);
    process.on('uncaughtException', this.onUncaught);
    process.on('unhandledRejection', this.onUnhandled);
  }

  uninstall(): void {
    if (!this.installed) return;
    this.installed = false;
    kernels.delete(this);
    process.off('uncaughtException', this.onUncaught);
    process.off('unhandledRejection', this.onUnhandled);
  }
}
