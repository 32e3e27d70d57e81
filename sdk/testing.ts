/**
 * A real kernel in the test's process, after Backstage's `startTestBackend`: a temporary data
 * dir, a free port, real HTTP, only the plugins under test, and mock services where wanted.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Kernel } from '../core/kernel';
import { settingsFromEnv, type KernelSettings } from '../core/settings';
import type { Clock, User } from './types';

export interface TestPlugin {
  path: string;
  id?: string;
  enabled?: boolean;
  config?: Record<string, unknown>;
}

export interface TestKernelOptions {
  plugins?: TestPlugin[];
  /** Services present before any plugin starts, by ref id: `{ [approvalGateRef.id]: fakeGate }`. */
  services?: Record<string, unknown>;
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
}

export interface TestResponse<T = any> { status: number; headers: Headers; body: T; text: string }

export interface TestKernel {
  baseUrl: string;
  adminToken: string;
  dataDir: string;
  registryPath: string;
  databaseUrl: string | undefined;
  kernel: Kernel;
  request<T = any>(method: string, path: string, options?: { body?: unknown; token?: string | null; headers?: Record<string, string>; raw?: string | Buffer }): Promise<TestResponse<T>>;
  createUser(options?: { role?: 'admin' | 'user'; email?: string; password?: string }): Promise<{ user: User; token: string }>;
  stop(): Promise<void>;
}

export async function createTestKernel(options: TestKernelOptions = {}): Promise<TestKernel> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'plinth-test-'));
  const registryPath = join(dataDir, 'plugin-registry.json');
  const plugins = (options.plugins ?? []).map(p => {
    const path = isAbsolute(p.path) ? p.path : resolve(p.path);
    const id = p.id ?? require(join(path, 'plugin.json')).id;
    return { id, path, enabled: p.enabled ?? true, config: p.config ?? {} };
  });
  writeFileSync(registryPath, JSON.stringify({ plugins }, null, 2));

  let databaseUrl = options.databaseUrl;
  let dropDatabase: (() => Promise<void>) | undefined;
  if (options.database === 'postgres' && !databaseUrl) {
    const base = process.env.PLINTH_TEST_POSTGRES_URL;
    if (!base) throw new Error('database: "postgres" needs PLINTH_TEST_POSTGRES_URL');
    ({ databaseUrl, dropDatabase } = await freshPostgresDatabase(base));
  }

  const adminToken = 'plt_test_' + randomBytes(16).toString('hex');
  const settings = {
    ...settingsFromEnv({}, dataDir),
    host: '127.0.0.1', port: 0, dataDir, registryPath, adminToken, databaseUrl,
    watch: options.watch ?? false, logToStdout: !!process.env.PLINTH_TEST_LOGS, drainTimeoutMs: 2000,
    ...options.settings,
  };
  const kernel = new Kernel({ settings, clock: options.clock, presetServices: options.services });
  try {
    await kernel.start();
  } catch (err) {
    await kernel.stop().catch(() => undefined);
    await dropDatabase?.();
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
  return {
    baseUrl, adminToken, dataDir, registryPath, databaseUrl, kernel, request,
    async createUser(o = {}) {
      const email = o.email ?? `user${++n}-${randomBytes(3).toString('hex')}@example.test`;
      const user = await kernel.auth.createUser({ email, role: o.role ?? 'user', password: o.password });
      const { token } = await kernel.auth.createToken(user.id, { name: 'test' });
      return { user, token };
    },
    async stop() {
      await kernel.stop();
      if (!options.keepData) await dropDatabase?.();
      if (!options.keepData && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
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
