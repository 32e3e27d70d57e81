import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KernelSettings } from '../core/process-settings';
import { CliFailure } from './output';

/**
 * How the command line reaches a running server: `--url` / PLINTH_URL, else the configured host
 * and port; the admin token from `--token` / PLINTH_ADMIN_TOKEN, else the token file the first
 * start wrote into the data dir.
 */
export interface ServerTarget { url: string; token: string | undefined }

export function serverTarget(settings: KernelSettings, flags: { url?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): ServerTarget {
  const host = ['0.0.0.0', '::', ''].includes(settings.host) ? '127.0.0.1' : settings.host;
  const url = (flags.url || env.PLINTH_URL || `http://${host.includes(':') ? `[${host}]` : host}:${settings.port}`).replace(/\/+$/, '');
  let token = flags.token || env.PLINTH_ADMIN_TOKEN || undefined;
  if (!token) {
    try { token = readFileSync(join(settings.dataDir, 'admin-token'), 'utf8').trim() || undefined; } catch { /* no token file */ }
  }
  return { url, token };
}

/** True when something answers `/api/health` like a Plinth server within the timeout. */
export async function serverAnswers(url: string, timeoutMs = 1500): Promise<{ up: boolean; version?: string }> {
  try {
    const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { up: false };
    const body = await res.json() as { status?: string; version?: string };
    return body.status === 'ok' ? { up: true, version: body.version } : { up: false };
  } catch {
    return { up: false };
  }
}

export class ServerClient {
  constructor(readonly target: ServerTarget) {}

  async request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.target.token) headers.authorization = `Bearer ${this.target.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.target.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
    } catch (err: any) {
      throw new CliFailure(`cannot reach the server at ${this.target.url}: ${err.cause?.code ?? err.message}`, 'start it with `plinth start`, or set PLINTH_URL', undefined, { cause: err });
    }
    const text = await res.text();
    let parsed: any;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = text; }
    if (res.ok) return parsed as T;
    const e = parsed?.error;
    const message = e?.message ?? `${method} ${path} answered ${res.status}`;
    if (res.status === 401 || res.status === 403) {
      throw new CliFailure(`${message} (HTTP ${res.status})`, 'pass an admin token: --token, PLINTH_ADMIN_TOKEN, or the admin-token file in PLINTH_DATA_DIR', e);
    }
    throw new CliFailure(message, undefined, e ?? { status: res.status });
  }
}
