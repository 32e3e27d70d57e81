/**
 * `plinth/testing`: a real kernel in the test's process, after Backstage's `startTestBackend`
 * (and, like Backstage's backend-test-utils, the one entry beside the SDK that may import the
 * kernel): a temporary data dir, a free port, real HTTP, only the plugins under test (from a
 * folder or defined inline), and mock services where wanted.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Kernel } from '../core/kernel';
import { settingsFromEnv, type KernelSettings } from '../core/process-settings';
import { pluginRole } from '../core/storage/plugin-role';
import { coreServices, type AnyServiceRef, type Clock, type EventBus, type PluginDefinition, type ServiceFactory, type ServiceRef, type User } from '../sdk';
import type { ServiceMock } from './mock-services';

export { mockService, mockServices, type ManualClock, type ServiceMock } from './mock-services';
export { echoAgents, type EchoAgentsOptions } from './fixtures/echo-agents';
export { startFakeAnthropic, type AnthropicScript, type FakeAnthropic } from './fixtures/fake-anthropic';
export { startFakeOpenAi, type FakeOpenAi, type OpenAiScript } from './fixtures/fake-openai';
export { readSse, sseFrames, type SseFrame } from './sse-frames';
export { failureControls, listenLocal, readJsonBody, sleep, type FailureMode, type FakeApi } from './fake-api';
export { parsePrometheusText, samplesOf, valueOf, type PromSample, type PromText } from './prometheus-text';

/** A plugin folder (`plugin.json` + code), as in the registry. */
export interface TestPluginFolder {
  path: string;
  id?: string;
  enabled?: boolean;
  config?: Record<string, unknown>;
  /** `sandbox`: its own process in the OS sandbox; PLINTH_TEST_ISOLATION=sandbox makes it the default for folders. */
  isolation?: 'in-process' | 'sandbox';
}

/**
 * A plugin defined in the test itself: a manifest (only `id` is required; `version`, `kernel`
 * and `main` get defaults) and a `definePlugin(...)`. It loads, validates and runs like a folder.
 */
export interface InlinePlugin {
  manifest: { id: string } & Record<string, unknown>;
  plugin: PluginDefinition<any, any>;
  enabled?: boolean;
  config?: Record<string, unknown>;
}

export type TestPlugin = TestPluginFolder | InlinePlugin;

export interface TestKernelOptions {
  plugins?: TestPlugin[];
  /**
   * Services present before any plugin starts: `[mockServices.toolPolicy(), mockService(ref, impl)]`,
   * or by ref id (`{ [toolPolicyRef.id]: fake }`). A clock mock stands in for the kernel's clock.
   */
  services?: ServiceMock<unknown>[] | Record<string, unknown>;
  /** Factories that replace any service, the kernel's own included: `createServiceFactory({ service, scope, factory })`. */
  serviceFactories?: ServiceFactory[];
  clock?: Clock;
  /** `postgres` runs on a fresh database of PLINTH_TEST_POSTGRES_URL (dropped at stop unless keepData). */
  database?: 'sqlite' | 'postgres';
  /** Run on this PostgreSQL database (e.g. a previous kernel's, to test a restart); never dropped here. */
  databaseUrl?: string;
  watch?: boolean;
  dataDir?: string;
  /** Keep the data dir (and a fresh PostgreSQL database) at stop, to start a second kernel on them. */
  keepData?: boolean;
  /** Kernel settings over the test defaults (e.g. `sandboxBwrap` pointing at a missing bubblewrap). */
  settings?: Partial<KernelSettings>;
  /** The kernel's egress allowlist (PLINTH_EGRESS_ALLOW), e.g. `['127.0.0.1']` for local fake servers. */
  egressAllow?: string[];
  /**
   * Host name → addresses for the egress service's DNS (`{ 'peer.example': ['127.0.0.1'] }`, or a
   * function asked on every lookup, to test DNS rebinding); names it does not know resolve as usual.
   */
  egressHosts?: Record<string, string[]> | ((name: string) => string[] | undefined);
}

export interface TestResponse<T = any> { status: number; headers: Headers; body: T; text: string }

export interface TestKernel {
  baseUrl: string;
  adminToken: string;
  dataDir: string;
  registryPath: string;
  databaseUrl: string | undefined;
  /** @deprecated reach the kernel through `service(ref)`, `events` and `users` instead. */
  kernel: Kernel;
  /** The service a ref names, as a plugin would get it (kernel services and plugins' provided ones); undefined when none is active. */
  service<T>(ref: ServiceRef<T> | AnyServiceRef): T | undefined;
  /** The kernel's event bus: publish as the kernel, subscribe to everything. */
  events: EventBus;
  users: {
    /** A user with an API token; `email` defaults to a fresh one. */
    create(options?: { role?: 'admin' | 'user'; email?: string; password?: string }): Promise<{ user: User; token: string }>;
    /** Another API token for an existing user. */
    createToken(userId: string, options?: { name?: string; expiresInMs?: number; scopes?: string[] }): Promise<{ id: string; token: string }>;
  };
  request<T = any>(method: string, path: string, options?: { body?: unknown; token?: string | null; headers?: Record<string, string>; raw?: string | Buffer }): Promise<TestResponse<T>>;
  /** The same as `users.create`. */
  createUser(options?: { role?: 'admin' | 'user'; email?: string; password?: string }): Promise<{ user: User; token: string }>;
  stop(): Promise<void>;
}

export async function createTestKernel(options: TestKernelOptions = {}): Promise<TestKernel> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'plinth-test-'));
  const registryPath = join(dataDir, 'plugin-registry.json');
  const inline = new InlinePlugins(dataDir);
  const plugins = (options.plugins ?? []).map(p => {
    if ('plugin' in p) return { id: p.manifest.id, path: inline.add(p), enabled: p.enabled ?? true, config: p.config ?? {} };
    const path = isAbsolute(p.path) ? p.path : resolve(p.path);
    const id = p.id ?? require(join(path, 'plugin.json')).id;
    const isolation = p.isolation ?? (process.env.PLINTH_TEST_ISOLATION === 'sandbox' ? 'sandbox' : undefined);
    return { id, path, enabled: p.enabled ?? true, config: p.config ?? {}, ...(isolation ? { isolation } : {}) };
  });
  const { services, clock } = presetServices(options);
  writeFileSync(registryPath, JSON.stringify({ plugins }, null, 2));

  let databaseUrl = options.databaseUrl;
  let dropDatabase: (() => Promise<void>) | undefined;
  if (options.database === 'postgres' && !databaseUrl) {
    const base = process.env.PLINTH_TEST_POSTGRES_URL;
    if (!base) throw new Error('database: "postgres" needs PLINTH_TEST_POSTGRES_URL');
    ({ databaseUrl, dropDatabase } = await freshPostgresDatabase(base));
  }

  // Kernels of one cluster share their admin token (each start would otherwise revoke the other's).
  const adminToken = options.settings?.adminToken ?? 'plt_test_' + randomBytes(16).toString('hex');
  const settings = {
    ...settingsFromEnv({}, dataDir),
    host: '127.0.0.1', port: 0, dataDir, registryPath, adminToken, databaseUrl,
    watch: options.watch ?? false, logToStdout: !!process.env.PLINTH_TEST_LOGS, drainTimeoutMs: 2000,
    egressAllow: options.egressAllow ?? [],
    ...options.settings,
  };
  const hosts = options.egressHosts;
  const egressLookup = hosts && (async (name: string) => (typeof hosts === 'function' ? hosts(name) : hosts[name])
    ?.map(address => ({ address, family: address.includes(':') ? 6 : 4 })) ?? require('node:dns/promises').lookup(name, { all: true, verbatim: true }));
  const kernel = new Kernel({ settings, clock, presetServices: services, serviceFactories: options.serviceFactories, egressLookup });
  try {
    await kernel.start();
  } catch (err) {
    await kernel.stop().catch(() => undefined);
    await dropDatabase?.();
    inline.clear();
    throw err;
  }
  const baseUrl = kernel.baseUrl;

  const request: TestKernel['request'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    const token = o.token === undefined ? adminToken : o.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | Buffer | undefined;
    if (o.raw !== undefined) body = o.raw;
    else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(baseUrl + path, { method, headers, body });
    const text = await res.text();
    let parsed: any = text;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };

  let n = 0;
  const users: TestKernel['users'] = {
    async create(o = {}) {
      const email = o.email ?? `user${++n}-${randomBytes(3).toString('hex')}@example.test`;
      const user = await kernel.auth.createUser({ email, role: o.role ?? 'user', password: o.password });
      const { token } = await kernel.auth.createToken(user.id, { name: 'test' });
      return { user, token };
    },
    createToken: (userId, o = {}) => kernel.auth.createToken(userId, { name: 'test', ...o }),
  };
  return {
    baseUrl, adminToken, dataDir, registryPath, databaseUrl, kernel, request, users,
    createUser: users.create,
    events: kernel.bus,
    service: <T>(ref: ServiceRef<T> | AnyServiceRef) => kernelService(kernel, ref.id) as T | undefined,
    async stop() {
      await kernel.stop();
      inline.clear();
      if (!options.keepData) await dropDatabase?.();
      if (!options.keepData && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Kernel services by their refs' ids, then whatever a plugin (or a mock) provides. */
function kernelService(kernel: Kernel, id: string): unknown {
  switch (id) {
    case coreServices.events.id: return kernel.bus;
    case coreServices.auth.id: return kernel.auth;
    case coreServices.tools.id: return kernel.tools;
    case coreServices.logger.id: return kernel.log;
    default: return kernel.host.service(id);
  }
}

function presetServices(options: TestKernelOptions): { services: Record<string, unknown>; clock: Clock | undefined } {
  const given = options.services ?? {};
  if (!Array.isArray(given)) return { services: given, clock: options.clock };
  const services: Record<string, unknown> = {};
  let clock = options.clock;
  for (const mock of given) {
    if (mock.ref.id === coreServices.clock.id) clock = mock.impl as Clock;
    else services[mock.ref.id] = mock.impl;
  }
  return { services, clock };
}

/**
 * Inline plugins become a folder in the test's data dir whose entry hands the kernel the very
 * definition the test made, so they go through the same manifest check, loader and lifecycle
 * as any plugin (the kernel loads plugins from folders only).
 */
const INLINE = Symbol.for('plinth.testing.inlinePlugins');
const inlineDefinitions: Map<string, PluginDefinition<any, any>> = ((globalThis as any)[INLINE] ??= new Map());

class InlinePlugins {
  private readonly keys: string[] = [];
  constructor(private readonly dataDir: string) {}

  add(p: InlinePlugin): string {
    const key = `${p.manifest.id}-${randomBytes(6).toString('hex')}`;
    inlineDefinitions.set(key, p.plugin);
    this.keys.push(key);
    const dir = join(this.dataDir, 'inline-plugins', key);
    mkdirSync(join(dir, 'src'), { recursive: true });
    const manifest = { version: '1.0.0', kernel: '^1.0.0', main: 'src/index.js', ...p.manifest };
    writeFileSync(join(dir, 'plugin.json'), JSON.stringify(manifest, null, 2));
    writeFileSync(join(dir, manifest.main as string), `module.exports = globalThis[Symbol.for('plinth.testing.inlinePlugins')].get(${JSON.stringify(key)});\n`);
    return dir;
  }

  clear(): void {
    for (const key of this.keys.splice(0)) inlineDefinitions.delete(key);
  }
}

export async function freshPostgresDatabase(baseUrl: string): Promise<{ databaseUrl: string; dropDatabase: () => Promise<void> }> {
  const { Client } = require('pg');
  const name = `plinth_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    dropDatabase: async () => {
      const c = new Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      // Roles are the cluster's: the ones its sandboxed plugins got (core/storage/plugin-role.ts) go too.
      const prefix = pluginRole(name, 'x').role.slice(0, -1);
      for (const { rolname } of (await c.query('SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)', [prefix])).rows) await c.query(`DROP ROLE IF EXISTS "${rolname}"`);
      await c.end();
    },
  };
}

/** Polls until `fn` gives a truthy value (returned), or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(fn: () => T | Promise<T>, what = 'condition', timeoutMs = 5000, intervalMs = 20): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise(r => setTimeout(r, intervalMs));
  }
}
