import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ROOT_DIR } from './version';

/**
 * The process settings: how this kernel process starts (environment, then `$PLINTH_DATA_DIR/kernel.json`).
 * Not a plugin's config (validated per plugin from its manifest), nor the admin's config API (kernel-config-update.ts).
 */
export interface KernelSettings {
  host: string;
  port: number;
  dataDir: string;
  registryPath: string;
  adminToken: string | undefined;
  databaseUrl: string | undefined;
  watch: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Also write log lines to stdout (the ring buffer always has them). */
  logToStdout: boolean;
  bodyLimit: number;
  drainTimeoutMs: number;
  /** How long a plugin's setup may run before the plugin is `error` (PLINTH_ERR_SETUP_TIMEOUT). */
  setupTimeoutMs: number;
  /** Host names answered besides loopback ones (`PLINTH_ALLOWED_HOSTS`, comma-separated). */
  allowedHosts: string[];
  /** Proxies whose `X-Forwarded-Proto` is believed (`PLINTH_TRUST_PROXY`, comma-separated addresses). */
  trustProxy: string[];
  /** Open SSE streams and WebSockets one user may hold (`PLINTH_MAX_SSE_PER_USER`, `PLINTH_MAX_WS_PER_USER`). */
  maxSsePerUser: number;
  maxWsPerUser: number;
  /**
   * Egress allowlist (`PLINTH_EGRESS_ALLOW`, comma-separated; else `egressAllow` saved by `PUT
   * /api/config`): hosts, `*.domain`, host:port, IPs, ip:port, CIDRs that outbound requests made for
   * users may reach although they are loopback, private or link-local (see core/egress/).
   */
  egressAllow: string[];
  /** bubblewrap for the process sandbox (`PLINTH_SANDBOX_BWRAP`); default: `bwrap` on PATH. */
  sandboxBwrap?: string;
}

/**
 * Settings from the environment; `PUT /api/config` may have saved some in
 * `$PLINTH_DATA_DIR/kernel.json`, and those apply where the environment says nothing.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): KernelSettings {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  const saved = readSavedSettings(abs(env.PLINTH_DATA_DIR || './data'));
  const port = env.PLINTH_PORT === undefined || env.PLINTH_PORT === '' ? (typeof saved.port === 'number' ? saved.port : 7700) : Number(env.PLINTH_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PLINTH_PORT must be an integer from 0 to 65535, got "${env.PLINTH_PORT}"`);
  }
  const level = (env.PLINTH_LOG_LEVEL ?? 'info') as KernelSettings['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(level)) {
    throw new Error(`PLINTH_LOG_LEVEL must be debug, info, warn or error, got "${level}"`);
  }
  const setupTimeoutMs = Number(env.PLINTH_SETUP_TIMEOUT_MS || (typeof saved.setupTimeoutMs === 'number' ? saved.setupTimeoutMs : 30_000));
  if (!Number.isInteger(setupTimeoutMs) || setupTimeoutMs < 1) {
    throw new Error(`PLINTH_SETUP_TIMEOUT_MS must be a positive integer (milliseconds), got "${env.PLINTH_SETUP_TIMEOUT_MS}"`);
  }
  return {
    host: env.PLINTH_HOST || (typeof saved.host === 'string' ? saved.host : '127.0.0.1'),
    port,
    dataDir: abs(env.PLINTH_DATA_DIR || './data'),
    registryPath: env.PLINTH_REGISTRY ? abs(env.PLINTH_REGISTRY) : defaultRegistryPath(cwd, abs(env.PLINTH_DATA_DIR || './data')),
    adminToken: env.PLINTH_ADMIN_TOKEN || undefined,
    databaseUrl: env.PLINTH_DATABASE_URL || undefined,
    watch: env.PLINTH_WATCH !== '0' && env.PLINTH_WATCH !== 'false',
    logLevel: level,
    logToStdout: env.PLINTH_LOG_STDOUT !== '0',
    bodyLimit: typeof saved.bodyLimit === 'number' ? saved.bodyLimit : 1024 * 1024,
    drainTimeoutMs: Number(env.PLINTH_DRAIN_TIMEOUT_MS || (typeof saved.drainTimeoutMs === 'number' ? saved.drainTimeoutMs : 10_000)),
    setupTimeoutMs,
    allowedHosts: list(env.PLINTH_ALLOWED_HOSTS),
    trustProxy: list(env.PLINTH_TRUST_PROXY),
    maxSsePerUser: positiveInt(env, 'PLINTH_MAX_SSE_PER_USER', 32),
    maxWsPerUser: positiveInt(env, 'PLINTH_MAX_WS_PER_USER', 32),
    egressAllow: env.PLINTH_EGRESS_ALLOW !== undefined ? list(env.PLINTH_EGRESS_ALLOW)
      : Array.isArray(saved.egressAllow) ? saved.egressAllow.map(String) : [],
    sandboxBwrap: env.PLINTH_SANDBOX_BWRAP || undefined,
  };
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map(h => h.trim()).filter(Boolean);
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.replace(/^::ffff:/, '');
  return a === '::1' || a.startsWith('127.') || a === 'localhost';
}

/** What `PUT /api/config` saved in `$PLINTH_DATA_DIR/kernel.json` (below the environment); `{}` when nothing was. The one reader of that file. */
export function readSavedSettings(dataDir: string): Record<string, unknown> {
  try { return JSON.parse(readFileSync(join(dataDir, 'kernel.json'), 'utf8')); } catch { return {}; }
}

/**
 * `./plugin-registry.json` in a checkout (or wherever one exists). An installed plinth (`npx plinth
 * start` in an empty folder) keeps its registry in the data dir, first written from the package's
 * own (its first-party plugins, paths into the package), so that nothing is written into node_modules.
 */
function defaultRegistryPath(cwd: string, dataDir: string): string {
  const local = resolve(cwd, 'plugin-registry.json');
  if (existsSync(local) || resolve(cwd) === ROOT_DIR) return local;
  const file = join(dataDir, 'plugin-registry.json');
  if (!existsSync(file)) {
    try {
      const shipped = JSON.parse(readFileSync(join(ROOT_DIR, 'plugin-registry.json'), 'utf8')) as { plugins: Array<{ path: string }> };
      for (const p of shipped.plugins) p.path = resolve(ROOT_DIR, p.path);
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(file, JSON.stringify(shipped, null, 2) + '\n');
    } catch { /* no shipped registry: start with none */ }
  }
  return file;
}
