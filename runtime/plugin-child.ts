// The entry of a sandboxed plugin's process. esbuild bundles it with the plugin's own entry
// (imported as `plinth-sandboxed-entry`), so the process reads one file and needs neither the
// kernel's checkout nor a TypeScript compiler. It builds a PluginContext whose members are proxies
// over the IPC channel and runs the plugin's unchanged `definePlugin` setup against it.
import type { PluginContext, PluginDefinition, SseMessage, SseStream, SqlRunner, PluginDatabase, Migration } from '../sdk';
import { PlinthError, isPlinthError } from '../sdk/errors';
import { batchedSender, unbatched, unsendableAnswer } from './ipc-batch';
// @ts-ignore resolved by the bundler to the plugin's main file
import * as entry from 'plinth-sandboxed-entry';

type Msg = { t: string; [k: string]: any };
const send = batchedSender(m => { if (process.connected) process.send!(m); }, (m, err) => { const instead = unsendableAnswer(m, `its answer cannot cross out of the sandbox: ${err.message}`); if (instead) send(instead); });
const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
let nextId = 1;
function call<T = unknown>(m: string, ...a: unknown[]): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => { pending.set(id, { resolve: resolve as any, reject }); send({ t: 'call', id, m, a }); });
}
const notify = (m: string, ...a: unknown[]) => send({ t: 'note', m, a });
const errorBody = (err: unknown) => isPlinthError(err)
  ? { status: err.status, code: err.code, message: err.message, details: (err as any).details }
  : { status: 500, code: 'PLINTH_ERR_INTERNAL', message: (err as Error)?.message ?? String(err) };
const toError = (e: any) => new PlinthError(e.status, e.code, e.message, e.details);

const handlers = new Map<string, (...a: any[]) => unknown>();
let handlerSeq = 0;
const keep = (fn: (...a: any[]) => unknown) => { const h = `h${++handlerSeq}`; handlers.set(h, fn); return h; };
const streams = new Map<number, ChildSseStream>();
const disposers: Array<() => unknown> = [];
const aborts = new Map<number, AbortController>();

process.on('message', unbatched(async (msg: Msg) => {
  if (msg.t === 'res') {
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.ok) p?.resolve(msg.v); else p?.reject(toError(msg.e));
  } else if (msg.t === 'ping') {
    send({ t: 'pong', n: msg.n });
  } else if (msg.t === 'abort') {
    aborts.get(msg.rid)?.abort();
  } else if (msg.t === 'sse.done') {
    streams.get(msg.rid)?.ended();
  } else if (msg.t === 'invoke') {
    try {
      const fn = handlers.get(msg.h);
      if (!fn) throw new PlinthError(410, 'PLINTH_ERR_PLUGIN_GONE', 'this handler was removed');
      const v = await fn(...msg.a);
      send({ t: 'res', id: msg.id, ok: true, v });
    } catch (err) {
      send({ t: 'res', id: msg.id, ok: false, e: errorBody(err) });
    }
  } else if (msg.t === 'dispose') {
    // Retired: the plugin's disposers run (in reverse), then the process ends; the kernel kills it after a second regardless.
    for (const fn of disposers.splice(0).reverse()) { try { await fn(); } catch { /* it is going anyway */ } }
    process.exit(0);
  } else if (msg.t === 'init') {
    try {
      await setUp(msg);
      send({ t: 'ready' });
    } catch (err) {
      send({ t: 'setup-failed', e: errorBody(err) });
    }
  }
}));
for (const origin of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(origin, (err: any) => notify('fault', origin, err?.message ?? String(err)));
}

class ChildSseStream implements SseStream {
  closed = false;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  constructor(private readonly rid: number, readonly lastEventId: string | undefined) {
    this.done = new Promise(r => (this.resolveDone = r));
  }
  ended(): void { this.closed = true; streams.delete(this.rid); this.resolveDone(); }
  send(message: SseMessage): boolean { if (this.closed) return false; notify('sse', this.rid, 'send', message); return true; }
  comment(text: string): void { if (!this.closed) notify('sse', this.rid, 'comment', text); }
  close(): void { if (!this.closed) { notify('sse', this.rid, 'close'); this.ended(); } }
  async replayThenLive<T extends { id: string | number }>(o: { replay(afterId: string | undefined): Promise<T[]> | T[]; live(push: (item: T) => void): () => unknown; frame(item: T): SseMessage; isLast?(item: T): boolean }): Promise<void> {
    const held: T[] = [];
    let replaying = true;
    let finished = false;
    const emit = (item: T) => { this.send(o.frame(item)); if (o.isLast?.(item)) { finished = true; this.close(); } };
    const dispose = o.live(item => { if (replaying) held.push(item); else if (!finished) emit(item); });
    try {
      const seen = new Set<string>();
      for (const item of await o.replay(this.lastEventId)) { seen.add(String(item.id)); if (!finished) emit(item); }
      replaying = false;
      for (const item of held.splice(0)) if (!seen.has(String(item.id)) && !finished) emit(item);
      await this.done;
    } finally { await dispose(); }
  }
}

function runner(handle: string, dialect: any, prefix: string): SqlRunner {
  return { dialect, query: (sql, params) => call('db.query', handle, sql, params ?? []), table: name => prefix + name };
}

async function setUp(init: Msg): Promise<void> {
  const definition: PluginDefinition = (entry as any).default ?? entry;
  if (!definition || !(definition as any)[Symbol.for('plinth.plugin')]) throw new PlinthError(500, 'PLINTH_ERR_PLUGIN_ENTRY', 'the entry must default-export definePlugin({...})');
  // The services it provides are stand-ins in the kernel whose methods cross back here.
  if (definition.provides.length) await call('svc.declare', definition.provides.map(r => r.id));
  const provided: Promise<unknown>[] = [];
  // Services it depends on are proxies: every member is an async method run by the kernel on the
  // provider, with arguments and answer copied across (a function among them cannot cross).
  const deps = Object.entries(definition.deps ?? {}).map(([key, ref]) => ({ key, id: ref.id, optional: !!ref.optional }));
  const present = new Set(await call<string[]>('deps.check', deps));
  const services: Record<string, unknown> = {};
  for (const d of deps) {
    services[d.key] = present.has(d.id)
      ? new Proxy({}, { get: (_t, member) => (typeof member !== 'string' || member === 'then' ? undefined : (...args: unknown[]) => call('svc.call', d.id, member, args)) })
      : undefined;
  }
  const secrets: Record<string, string | undefined> = {};
  for (const name of init.secretNames as string[]) secrets[name] = process.env[name];
  const logAt = (fields: Record<string, unknown>) => (level: string) => (msg: string, f?: Record<string, unknown>) => notify('log', level, msg, { ...fields, ...plain(f) });
  const makeLog = (fields: Record<string, unknown>): PluginContext['log'] => {
    const at = logAt(fields);
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: more => makeLog({ ...fields, ...more }) };
  };
  const route = (method: string) => (path: string, options: any, handler: (req: any) => unknown) => {
    const h = keep(async (rid: number, r: any) => {
      const controller = new AbortController();
      aborts.set(rid, controller);
      let stream: ChildSseStream | undefined;
      const req = {
        ...r, signal: controller.signal,
        sse: () => { if (!stream) { stream = new ChildSseStream(rid, r.lastEventId); streams.set(rid, stream); notify('sse', rid, 'open'); } return stream; },
        get node(): never { throw new PlinthError(500, 'PLINTH_ERR_SANDBOX_UNSUPPORTED', 'req.node (Node\'s request objects) does not cross into a sandboxed plugin'); },
      };
      try {
        const result = await handler(req);
        if (stream) { await stream.done; return { sse: true }; }
        return { result };
      } finally { aborts.delete(rid); }
    });
    const id = call('http.route', method, path, options, h);
    return async () => { await id; handlers.delete(h); await call('http.unroute', h); };
  };
  const timers = new Set<NodeJS.Timeout>();
  const dataDir = init.dataDir as string;
  const unsupported = (what: string) => () => { throw new PlinthError(500, 'PLINTH_ERR_SANDBOX_UNSUPPORTED', `${what} is not available to a sandboxed plugin`); };
  const ctx: PluginContext = {
    pluginId: init.pluginId, generation: init.generation, pluginDir: init.pluginDir, dataDir,
    log: makeLog({}), config: init.config, secrets,
    // The kernel's own validator, bundled and loaded on first use: validating is pure, so it need not cross the channel.
    validator: { compile: (schema, options) => (require('../core/validation') as typeof import('../core/validation')).kernelValidator.compile(schema, options) },
    http: { get: route('get'), post: route('post'), put: route('put'), patch: route('patch'), delete: route('delete') },
    ws: { handle: unsupported('ctx.ws (WebSocket endpoints)') as any },
    events: {
      publish: (topic, payload, options) => call('events.publish', topic, payload, options) as any,
      subscribe: (pattern, handler) => {
        const h = keep(handler);
        const done = call('events.subscribe', pattern, h);
        return async () => { await done; handlers.delete(h); await call('events.unsubscribe', h); };
      },
      replay: (pattern, afterId, limit) => call('events.replay', pattern, afterId, limit),
    },
    tools: {
      register: tool => {
        const { run, ...info } = tool;
        const h = keep((input: unknown, c: any) => run(input as any, c));
        const done = call('tools.register', info, h);
        return async () => { await done; handlers.delete(h); await call('tools.unregister', h); };
      },
      list: unsupported('tools.list() (synchronous)') as any,
      get: unsupported('tools.get() (synchronous)') as any,
      execute: (name, input, c) => call('tools.execute', name, input, { user: c.user, sessionId: c.sessionId, jobId: c.jobId, turnId: c.turnId, via: c.via }),
      onChange: unsupported('tools.onChange()') as any,
    },
    storage: {
      open: async (o?: { migrations?: Migration[] }): Promise<PluginDatabase> => {
        const migrations = o?.migrations ?? [];
        const byName = new Map(migrations.map(m => [m.name, m]));
        const up = keep((name: string, handle: string) => byName.get(name)!.up(runner(handle, init.dialect, init.prefix)));
        const handle = await call<string>('db.open', migrations.map(m => m.name), up);
        handlers.delete(up);
        return {
          ...runner(handle, init.dialect, init.prefix),
          transaction: async fn => {
            const tx = await call<string>('db.begin', handle);
            try { const v = await fn(runner(tx, init.dialect, init.prefix)); await call('db.end', tx, true); return v; }
            catch (err) { await call('db.end', tx, false).catch(() => undefined); throw err; }
          },
        };
      },
    },
    auth: {
      verifyToken: (token, options) => call('auth.verifyToken', token, options),
      getUser: id => call('auth.getUser', id),
      createToken: unsupported('auth.createToken()') as any,
      revokeToken: unsupported('auth.revokeToken()') as any,
    },
    clock: { now: () => Date.now() },
    timers: {
      setTimeout: (fn, ms) => { const t = setTimeout(() => { timers.delete(t); fn(); }, ms); timers.add(t); return () => { clearTimeout(t); timers.delete(t); }; },
      setInterval: (fn, ms) => { const t = setInterval(fn, ms); timers.add(t); return () => { clearInterval(t); timers.delete(t); }; },
    },
    kernel: { version: init.kernel.version, dataDir: init.kernel.dataDir, dialect: init.dialect, baseUrl: () => init.kernel.baseUrl, nodeId: init.kernel.nodeId },
    onDispose: fn => { disposers.push(fn); },
    provide: (ref, impl: any) => { provided.push(call('svc.provide', ref.id, methodNames(impl), keep((member: string, args: unknown[]) => impl[member](...args)))); },
  };
  await definition.setup({ ...ctx, ...services } as any);
  await Promise.all(provided);
}

/** The methods of a service object, its class's included. */
function methodNames(impl: object): string[] {
  const names = new Set<string>();
  for (let o = impl; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) for (const k of Object.getOwnPropertyNames(o)) if (k !== 'constructor' && typeof (impl as any)[k] === 'function') names.add(k);
  return [...names];
}

/** Log fields cross the channel by structured clone; an Error becomes its message and stack. */
function plain(fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!fields) return fields;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Error ? { message: v.message, stack: v.stack } : typeof v === 'function' ? String(v) : v;
  return out;
}

// Outbound HTTP goes through the sandbox's filtering proxy (the only way out of its network
// namespace); Node's fetch ignores HTTP(S)_PROXY on its own, so the dispatcher is set to honour them.
if (process.env.PLINTH_SANDBOX_NETWORK === '1' && process.env.HTTPS_PROXY) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  // Loopback inside the sandbox is its own; a granted host is reached through the proxy even by address.
  delete process.env.NO_PROXY;
  delete process.env.no_proxy;
  const undici = require('undici');
  undici.setGlobalDispatcher(new undici.EnvHttpProxyAgent());
}
send({ t: 'hello' });
