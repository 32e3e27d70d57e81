import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Agent, fetch as UndiciFetch } from 'undici';
import { EGRESS_REFUSED, EGRESS_UNREACHABLE, PlinthError, type AddressClass, type EgressFetchInit, type EgressService, type EgressTarget } from '../../sdk';
import { classifyAddress, parseEgressAllow, ruleAllows, METADATA_NAMES, type AllowRule } from './address-rules';

export { classifyAddress, parseEgressAllow } from './address-rules';

/** How host names are resolved; tests inject one (there is no DNS to rely on). */
export type EgressLookup = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

const DNS_TIMEOUT_MS = 5000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const NULL_BODY = new Set([101, 204, 205, 304]);

const refused = (url: URL | string, why: string) => new PlinthError(403, EGRESS_REFUSED,
  `request to ${origin(url)} refused by the egress policy: ${why} (an admin can allow it with PLINTH_EGRESS_ALLOW)`);
// One message whatever went wrong (refused, reset, timeout, TLS): the answer must not tell an open port from a closed one.
const unreachable = (url: URL | string) => new PlinthError(502, EGRESS_UNREACHABLE, `could not reach ${origin(url)}`);

function origin(url: URL | string): string {
  try {
    const u = new URL(url);
    return u.origin === 'null' ? `a ${u.protocol} URL` : u.origin;
  } catch { return 'the target'; }
}

/** undici on the first outbound request: loading it cost ~50 ms of every cold start, and a start makes none. */
let undiciModule: typeof import('undici') | undefined;
const undici = () => (undiciModule ??= require('undici') as typeof import('undici'));

export interface EgressOptions {
  /** Read on every check, so a change of the kernel setting applies to the next request. */
  allow: () => string[];
  lookup?: EgressLookup;
}

/** The kernel's egress service (`egressRef`): see the interface in sdk/egress.ts. */
export class EgressPolicy implements EgressService {
  private readonly lookup: EgressLookup;
  private pool: Agent | undefined;
  private rules: { source: string; rules: AllowRule[] } = { source: '', rules: [] };

  constructor(private readonly options: EgressOptions) {
    this.lookup = options.lookup ?? (host => dnsLookup(host, { all: true, verbatim: true }));
  }

  /** The connection pool, made with the first request. */
  private get agent(): Agent {
    if (this.pool) return this.pool;
    const { Agent, buildConnector } = undici();
    const connect = buildConnector({ timeout: 10_000 });
    // Every connection (first request, each redirect, each new pooled socket) resolves and checks
    // here, then connects to the very address that was checked.
    return (this.pool = new Agent({
      headersTimeout: 0, bodyTimeout: 0,
      connect: (opts, callback) => {
        const url = `${opts.protocol}//${isIP(opts.hostname) === 6 ? `[${opts.hostname}]` : opts.hostname}:${opts.port}`;
        this.resolve(opts.hostname, Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80), url).then(target => {
          const name = opts.hostname.replace(/^\[|\]$/g, '');
          connect({ ...opts, hostname: target.address, servername: opts.servername || (isIP(name) ? undefined : name) }, callback);
        }, err => callback(err, null));
      },
    }));
  }

  /** Ends every connection (plugins have stopped by then; a long-lived event stream must not hold the stop). */
  async close(): Promise<void> {
    await this.pool?.destroy();
  }

  classify(address: string): AddressClass {
    return classifyAddress(address);
  }

  private allowRules(): AllowRule[] {
    const list = this.options.allow();
    const source = list.join(',');
    if (source !== this.rules.source) this.rules = { source, rules: parseEgressAllow(list) };
    return this.rules.rules;
  }

  private parse(input: string | URL): URL {
    let url: URL;
    try { url = new URL(String(input)); } catch { throw new PlinthError(400, EGRESS_REFUSED, 'refused by the egress policy: not a valid URL'); }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refused(url, `only http and https are allowed, not ${url.protocol.replace(/:$/, '')}`);
    return url;
  }

  async check(input: string | URL): Promise<EgressTarget> {
    const url = this.parse(input);
    return this.resolve(url.hostname, Number(url.port) || (url.protocol === 'https:' ? 443 : 80), url);
  }

  private async resolve(rawHost: string, port: number, url: URL | string): Promise<EgressTarget> {
    const hostname = rawHost.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
    const u = new URL(String(url));
    const rules = this.allowRules();
    // Metadata names are refused before DNS (they may not resolve from here, but do on the cloud host).
    if (METADATA_NAMES.has(hostname) && !rules.some(r => r.kind === 'host' && r.host === hostname && (r.port === undefined || r.port === port))) {
      throw refused(url, `${hostname} is a metadata host`);
    }
    let found: Array<{ address: string; family: number }>;
    if (isIP(hostname)) found = [{ address: hostname, family: isIP(hostname) }];
    else {
      let timer: NodeJS.Timeout | undefined;
      const slow = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('DNS timeout')), DNS_TIMEOUT_MS); });
      try { found = await Promise.race([this.lookup(hostname), slow]); } catch { throw unreachable(url); } finally { clearTimeout(timer); }
      if (!found.length) throw unreachable(url);
    }
    const addresses = found.map(a => ({ address: a.address, family: (a.family === 6 ? 6 : 4) as 4 | 6, class: classifyAddress(a.address) }));
    let allowlisted = false;
    for (const a of addresses) {
      const cls = METADATA_NAMES.has(hostname) ? 'metadata' : a.class;
      if (cls === 'public') continue;
      if (!rules.some(r => ruleAllows(r, hostname, port, a.address, cls))) {
        throw refused(url, isIP(hostname) ? `${hostname} is a ${cls} address` : `${hostname} resolves to a ${cls} address`);
      }
      allowlisted = true;
    }
    return { url: u.href, protocol: u.protocol as 'http:' | 'https:', hostname, port, addresses, address: addresses[0].address, allowlisted };
  }

  fetcher(defaults: EgressFetchInit = {}): typeof fetch {
    return (input, init) => {
      const url = input instanceof Request ? input.url : input;
      return this.fetch(url, { ...defaults, ...(init as EgressFetchInit) });
    };
  }

  async fetch(input: string | URL, init: EgressFetchInit = {}): Promise<Response> {
    const { timeoutMs = 30_000, idleTimeoutMs = timeoutMs, maxBytes = 10 * 1024 * 1024, maxRedirects = 5, signal, ...request } = init;
    let url = this.parse(input);
    let method = (request.method ?? 'GET').toUpperCase();
    let body = request.body;
    const headers = new Headers(request.headers);
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    if (signal?.aborted) throw signal.reason;
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(unreachable(url)), timeoutMs);
    try {
      for (let hop = 0; ; hop++) {
        // Checked before the request so that every refusal reads the same (fetch itself refuses some
        // ports first); the connector checks again and connects to what it checked.
        await this.check(url);
        const res = await undici().fetch(url, { ...(request as any), method, headers, body, redirect: 'manual', dispatcher: this.agent, signal: controller.signal })
          .catch(err => { throw this.failure(err, url, signal); });
        const location = res.headers.get('location');
        if (!REDIRECTS.has(res.status) || !location) {
          clearTimeout(timer);
          return bounded(res, url, maxBytes, idleTimeoutMs, controller, () => signal?.removeEventListener('abort', onAbort));
        }
        await res.body?.cancel().catch(() => undefined);
        if (hop >= maxRedirects) throw unreachable(url);
        const next = this.parse(new URL(location, url));
        if (next.origin !== url.origin) for (const h of ['authorization', 'cookie', 'proxy-authorization']) headers.delete(h);
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
          if (method !== 'HEAD') method = 'GET';
          body = undefined;
          headers.delete('content-type');
          headers.delete('content-length');
        } else if (body instanceof ReadableStream) throw unreachable(url); // a streamed body cannot be sent twice
        url = next;
      }
    } catch (err) {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      throw err;
    }
  }

  /** The policy's refusal as is; the caller's abort as is; anything else is "could not reach". */
  private failure(err: unknown, url: URL, signal: AbortSignal | null | undefined): unknown {
    for (let e: any = err, d = 0; e && d < 8; e = e.cause, d++) if (e instanceof PlinthError) return e;
    if (signal?.aborted) return signal.reason;
    return unreachable(url);
  }
}

/** A Response whose body fails past `maxBytes` or after `idleMs` without data. */
function bounded(res: Awaited<ReturnType<typeof UndiciFetch>>, url: URL, maxBytes: number, idleMs: number, controller: AbortController, done: () => void): Response {
  const init = { status: res.status, statusText: res.statusText, headers: new Headers([...res.headers] as Array<[string, string]>) };
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    controller.abort();
    done();
    throw new PlinthError(502, 'PLINTH_ERR_EGRESS_TOO_LARGE', `the response from ${url.origin} is larger than ${maxBytes} bytes`);
  }
  if (!res.body || NULL_BODY.has(res.status)) {
    done();
    return new Response(null, init);
  }
  const reader = res.body.getReader();
  let total = 0;
  const stop = (ctrl: ReadableStreamDefaultController<Uint8Array>, err: unknown) => {
    ctrl.error(err);
    controller.abort();
    void reader.cancel().catch(() => undefined);
    done();
  };
  const stream = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<never>((_, reject) => {
        if (idleMs > 0) timer = setTimeout(() => reject(unreachable(url)), idleMs);
      });
      try {
        const { done: finished, value } = await Promise.race([reader.read(), idle]);
        if (finished) { ctrl.close(); done(); return; }
        total += value.byteLength;
        if (total > maxBytes) return stop(ctrl, new PlinthError(502, 'PLINTH_ERR_EGRESS_TOO_LARGE', `the response from ${url.origin} is larger than ${maxBytes} bytes`));
        ctrl.enqueue(value);
      } catch (err) {
        stop(ctrl, err instanceof PlinthError ? err : (controller.signal.aborted && !(controller.signal.reason instanceof PlinthError) ? controller.signal.reason : unreachable(url)));
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      done();
      return reader.cancel(reason);
    },
  });
  return new Response(stream, init);
}
