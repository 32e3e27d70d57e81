import { resolve } from 'node:path';
import { PLUGIN_MARKER, type PluginContext, type PluginDefinition, type SandboxService, type ServiceRef } from '../../../sdk';
import type { DatabaseSettings } from '../../storage/database';
import type { PluginFaults } from '../../faults';
import type { PluginManifest } from '../manifest';
import { bundleDirOf } from './plugin-bundle';
import { PluginProcess, SANDBOX_DEFAULTS } from './plugin-process';
import { KernelBridge } from './kernel-bridge';
import { SqlGuard } from './sql-guard';

export interface SandboxedEnv {
  sandbox: SandboxService | undefined;
  dataDir: string;
  setupTimeoutMs: number;
  faults: PluginFaults;
  otherPluginIds(): string[];
  /** Starts a new generation (a new process) of the plugin. */
  restart(pluginId: string, reason: string): void;
  crashes: CrashHistory;
  /** A service by ref id, as plugins get it (the provider's current generation). */
  service(id: string): unknown;
  database?: DatabaseSettings;
}

/** VS Code's extension host rule: restart after a crash, but not after the third within five minutes. */
export class CrashHistory {
  static readonly MAX = 3;
  static readonly WINDOW_MS = 5 * 60_000;
  private readonly times = new Map<string, number[]>();

  /** Records a crash; the delay before the next start, or undefined to give up. */
  record(pluginId: string, now = Date.now()): number | undefined {
    const recent = (this.times.get(pluginId) ?? []).filter(t => now - t < CrashHistory.WINDOW_MS);
    recent.push(now);
    this.times.set(pluginId, recent);
    return recent.length >= CrashHistory.MAX ? undefined : 500 * 2 ** (recent.length - 1);
  }

  /** An admin's reload or enable starts the count again. */
  clear(pluginId: string): void { this.times.delete(pluginId); }
}

/**
 * The kernel's side of a sandboxed plugin: a definition whose setup starts the plugin's process,
 * runs the real setup there, and registers in this generation — routes, tools, subscriptions — a
 * stand-in for each thing the plugin registers over the channel. So reload, disable, drain and
 * rollback are the in-process ones: a new generation is a new process, swapped in atomically, and
 * the old process is stopped when its generation is disposed (after its requests finished).
 */
export function sandboxedDefinition(pluginId: string, dir: string, manifest: PluginManifest, env: SandboxedEnv): PluginDefinition {
  // Filled in during setup from what the process declares; the generation reads this same array.
  const provides: ServiceRef<unknown>[] = [];
  return {
    [PLUGIN_MARKER]: true, deps: {}, provides,
    async setup(ctx: PluginContext) {
      const perms = manifest.permissions;
      const secrets: Record<string, string> = {};
      for (const name of perms.secrets) if (process.env[name] !== undefined) secrets[name] = process.env[name]!;
      const proc = new PluginProcess({
        pluginId, pluginDir: dir, mainFile: resolve(dir, manifest.main), dataDir: ctx.dataDir,
        bundleDir: bundleDirOf(env.dataDir, pluginId), secrets, network: perms.network,
        exec: perms.exec === true, memoryMb: perms.memoryMb ?? SANDBOX_DEFAULTS.memoryMb,
      }, env.sandbox);
      const bridge = new KernelBridge(ctx, proc, new SqlGuard(pluginId, env.otherPluginIds), { manifest, service: env.service, provides, database: env.database });
      proc.onCall = (m, a) => bridge.call(m, a);
      proc.onNote = (m, a) => bridge.note(m, a, env.faults, pluginId);
      let live = true;
      proc.onCrash = reason => {
        if (!live) return;
        live = false;
        const delay = env.crashes.record(pluginId);
        const message = delay === undefined
          ? `${reason}; it crashed ${CrashHistory.MAX} times within ${CrashHistory.WINDOW_MS / 60_000} minutes and is not restarted again (reload or enable it once fixed)`
          : `${reason}; restarting in ${delay} ms`;
        env.faults.pluginFailed(pluginId, new Error(message), 'sandboxed process');
        if (delay !== undefined) setTimeout(() => env.restart(pluginId, 'crash'), delay).unref();
      };
      ctx.onDispose(async () => { live = false; await proc.stop(); });
      await proc.start();
      await proc.init({
        pluginId, generation: ctx.generation, pluginDir: dir, dataDir: ctx.dataDir, config: ctx.config,
        secretNames: perms.secrets, dialect: ctx.kernel.dialect, prefix: tablePrefixOf(ctx),
        kernel: { version: ctx.kernel.version, dataDir: ctx.kernel.dataDir, baseUrl: safeBaseUrl(ctx), nodeId: ctx.kernel.nodeId },
      }, env.setupTimeoutMs);
    },
  };
}

function safeBaseUrl(ctx: PluginContext): string {
  try { return ctx.kernel.baseUrl(); } catch { return ''; }
}

function tablePrefixOf(ctx: PluginContext): string {
  return ctx.pluginId.replace(/[^a-z0-9]/gi, '_').toLowerCase() + '_';
}
