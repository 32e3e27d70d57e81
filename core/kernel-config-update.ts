import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSavedSettings, type KernelSettings } from './process-settings';
import type { PluginHost } from './plugins/plugin-host';
import type { LogSink } from './log';
import type { KernelToolRegistry } from './tools';
import { KERNEL_VERSION } from './version';
import { parseEgressAllow } from './egress/egress-policy';
import { errors } from '../sdk';

const RESTART_KEYS = ['host', 'port', 'bodyLimit', 'drainTimeoutMs', 'setupTimeoutMs'] as const;

/**
 * The admin's config API as a use case: the running configuration as `GET /api/config` shows it,
 * a change of it (`PUT /api/config`: applied at once, saved for the next start, or handed to the
 * plugin host), and the capabilities summary. The settings themselves come from process-settings.ts.
 */
export class KernelConfigUpdate {
  constructor(
    private readonly settings: KernelSettings,
    private readonly host: PluginHost,
    private readonly tools: KernelToolRegistry,
    private readonly logs: LogSink,
    private readonly dialect: string,
  ) {}

  view() {
    const s = this.settings;
    return {
      kernel: { version: KERNEL_VERSION, host: s.host, port: s.port, dataDir: s.dataDir, registry: s.registryPath, database: this.dialect, watch: s.watch, logLevel: s.logLevel, bodyLimit: s.bodyLimit, drainTimeoutMs: s.drainTimeoutMs, setupTimeoutMs: s.setupTimeoutMs, egressAllow: s.egressAllow, adminTokenConfigured: !!s.adminToken },
      plugins: Object.fromEntries([...this.host.plugins.values()].map(p => [p.id, { enabled: p.entry.enabled !== false, config: p.entry.config ?? {}, configSchema: p.manifest?.configSchema ?? null }])),
    };
  }

  /** The last `PUT /api/config`'s result (`GET /api/config/status`); null before the first. */
  lastApply: { at: string; applied: string[]; restartRequired: string[]; failed: Array<{ plugin: string; error: unknown }> } | null = null;

  async update(body: { kernel?: Record<string, unknown>; plugins?: Record<string, Record<string, unknown>> }) {
    const applied: string[] = [];
    const restartRequired: string[] = [];
    const failed: Array<{ plugin: string; error: unknown }> = [];
    const k = body.kernel ?? {};
    if (k.logLevel) {
      this.settings.logLevel = k.logLevel as KernelSettings['logLevel'];
      this.logs.setLevel(this.settings.logLevel);
      applied.push('kernel.logLevel');
    }
    const saved = readSavedSettings(this.settings.dataDir);
    let save = false;
    if (Array.isArray(k.egressAllow)) {
      try { parseEgressAllow(k.egressAllow as string[]); } catch (err) { throw errors.validation((err as Error).message); }
      // Applies to the next outbound request; saved so that it outlives a restart (PLINTH_EGRESS_ALLOW still wins then).
      this.settings.egressAllow = k.egressAllow as string[];
      saved.egressAllow = k.egressAllow;
      save = true;
      applied.push('kernel.egressAllow');
    }
    for (const key of RESTART_KEYS) {
      if (k[key] === undefined) continue;
      saved[key] = k[key];
      save = true;
      restartRequired.push(`kernel.${key}`);
    }
    if (save) {
      const file = join(this.settings.dataDir, 'kernel.json');
      writeFileSync(file + '.tmp', JSON.stringify(saved, null, 2));
      renameSync(file + '.tmp', file);
    }
    for (const [id, config] of Object.entries(body.plugins ?? {})) {
      if (!this.host.plugins.has(id)) { failed.push({ plugin: id, error: { code: 'PLINTH_ERR_NOT_FOUND', message: `plugin ${id} not found` } }); continue; }
      try {
        const state = await this.host.setConfig(id, config);
        if (state.error) failed.push({ plugin: id, error: state.error });
        else applied.push(`plugins.${id}`);
      } catch (err: any) {
        failed.push({ plugin: id, error: { code: err.code ?? 'PLINTH_ERR_CONFIG', message: err.message, details: err.details } });
      }
    }
    this.lastApply = { at: new Date().toISOString(), applied, restartRequired, failed };
    return { applied, restartRequired, failed, config: this.view() };
  }

  capabilities() {
    let pty = false;
    try { require.resolve('node-pty'); pty = true; } catch { /* runs plugin not installed */ }
    const active = [...this.host.plugins.values()].filter(p => p.status === 'active').map(p => p.id);
    return {
      version: KERNEL_VERSION,
      node: process.version,
      database: this.dialect,
      plugins: active,
      tools: this.tools.list().length,
      features: { websocket: true, sse: true, hotReload: this.settings.watch, pty, openapi: true },
    };
  }
}
