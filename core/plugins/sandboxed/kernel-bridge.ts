import { PlinthError, type Disposer, type PluginContext, type RouteRequest, type ServiceRef, type SqlRunner, type User } from '../../../sdk';
import { openAsPluginRole } from '../../storage/plugin-role';
import type { DatabaseSettings } from '../../storage/database';
import type { PluginFaults } from '../../faults';
import type { PluginManifest } from '../manifest';
import type { PluginProcess } from './plugin-process';
import type { SqlGuard } from './sql-guard';
import { checkDeclaredDependencies } from '../generation-loader';

const ROLLBACK = new Error('rolled back');
type PluginDatabaseLike = SqlRunner & { transaction?(fn: (tx: SqlRunner) => Promise<void>): Promise<void> };

/**
 * The kernel's end of a sandboxed plugin's IPC channel: carries out, in the kernel and with the
 * plugin's own scoped services, what the plugin's process asks for.
 */
export class KernelBridge {
  private readonly disposers = new Map<string, Disposer>();
  private readonly handles = new Map<string, SqlRunner>();
  private readonly transactions = new Map<string, (commit: boolean) => Promise<void>>();
  private readonly streams = new Map<number, { req: RouteRequest; open?: ReturnType<RouteRequest['sse']>; cancelTimeout?: () => void }>();
  /** Users on whose behalf the plugin is serving now: the only ones it may run tools for. */
  private readonly serving = new Map<string, { user: User; n: number }>();
  private seq = 0;

  /** The services its definition names in deps (checked against plugin.json), the only ones it may call. */
  private readonly deps = new Set<string>();

  constructor(private readonly ctx: PluginContext, private readonly proc: PluginProcess, private readonly guard: SqlGuard, private readonly o: { manifest: PluginManifest; service(id: string): unknown; provides: ServiceRef<unknown>[]; database?: DatabaseSettings }) {
    // A process that dies inside a transaction leaves it to the kernel to roll back.
    ctx.onDispose(async () => { for (const end of this.transactions.values()) await end(false).catch(() => undefined); this.transactions.clear(); });
  }

  private hold(d: Disposer, h: string): void {
    this.disposers.set(h, d);
    this.ctx.onDispose(() => { this.disposers.delete(h); return d(); });
  }

  private async asUser<T>(user: User | undefined, fn: () => Promise<T>): Promise<T> {
    if (!user) return fn();
    const s = this.serving.get(user.id) ?? { user, n: 0 };
    s.n++;
    this.serving.set(user.id, s);
    try { return await fn(); } finally { if (--s.n === 0) this.serving.delete(user.id); }
  }

  async call(method: string, a: any[]): Promise<unknown> {
    const { ctx } = this;
    switch (method) {
      case 'http.route': {
        const [verb, path, options, h] = a as [keyof PluginContext['http'], string, any, string];
        this.hold((ctx.http[verb] as PluginContext['http']['post'])(path, options, (req: RouteRequest) => this.serve(h, req)), h);
        return;
      }
      case 'http.unroute': case 'events.unsubscribe': case 'tools.unregister': {
        const d = this.disposers.get(a[0]);
        this.disposers.delete(a[0]);
        await d?.();
        return;
      }
      case 'events.publish': return ctx.events.publish(a[0], a[1], a[2]);
      case 'events.replay': return ctx.events.replay(a[0], a[1], a[2]);
      case 'events.subscribe': {
        const h = a[1] as string;
        this.hold(ctx.events.subscribe(a[0], async event => { await this.proc.invoke(h, [event]); }), h);
        return;
      }
      case 'tools.register': {
        const [info, h] = a as [any, string];
        this.hold(ctx.tools.register({
          ...info,
          run: (input, c) => this.asUser(c.user, () => this.proc.invoke(h, [input, { user: c.user, sessionId: c.sessionId, jobId: c.jobId, turnId: c.turnId, via: c.via }])),
        }), h);
        return;
      }
      case 'tools.execute': {
        const [name, input, c] = a;
        const serving = this.serving.get(c?.user?.id);
        if (!serving) throw new PlinthError(403, 'PLINTH_ERR_SANDBOX_DENIED', 'a sandboxed plugin runs tools only for the user of a request or tool call it is serving');
        return ctx.tools.execute(name, input, { ...c, user: serving.user, via: c.via ?? ctx.pluginId });
      }
      case 'db.open': {
        const [names, up] = a as [string[], string];
        const migrations = names.map(name => ({ name, up: async (runner: SqlRunner) => {
          const h = this.handle(runner);
          try { await this.proc.invoke(up, [name, h]); } finally { this.handles.delete(h); }
        } }));
        if (this.o.database?.dialect !== 'postgres') return this.handle(await ctx.storage.open({ migrations }));
        const own = await openAsPluginRole(this.o.database, ctx.pluginId, migrations);
        ctx.onDispose(own.close);
        if (own.applied.length) ctx.log.info('migrations applied', { migrations: own.applied });
        return this.handle(own.db);
      }
      case 'db.query': {
        const [h, sql, params] = a as [string, string, unknown[]];
        const runner = this.handles.get(h);
        if (!runner) throw new PlinthError(409, 'PLINTH_ERR_SANDBOX_DENIED', 'that database handle is closed');
        if (typeof sql !== 'string') throw new PlinthError(400, 'PLINTH_ERR_SANDBOX_DENIED', 'a query is a string');
        await this.guard.check(runner, sql);
        const rows = await runner.query(sql, params);
        if (/^\s*(create|drop|alter)\b/i.test(sql)) this.guard.forget();
        return rows;
      }
      case 'db.begin': {
        const db = this.handles.get(a[0]) as PluginDatabaseLike | undefined;
        if (!db?.transaction) throw new PlinthError(409, 'PLINTH_ERR_SANDBOX_DENIED', 'that database handle is closed');
        // The kernel's transaction is a callback; it is held open until the process says how it ends.
        let finish!: (commit: boolean) => void;
        let started!: (h: string) => void;
        const ready = new Promise<string>(r => (started = r));
        const done = db.transaction(async tx => {
          const h = this.handle(tx);
          const over = new Promise<void>((res, rej) => { finish = commit => (commit ? res() : rej(ROLLBACK)); });
          started(h);
          try { await over; } finally { this.handles.delete(h); }
        });
        const h = await Promise.race([ready, done.then(() => { throw new Error('transaction ended early'); })]);
        this.transactions.set(h, async commit => { finish(commit); await done.catch(err => { if (err !== ROLLBACK) throw err; }); });
        return h;
      }
      case 'db.end': {
        const end = this.transactions.get(a[0]);
        this.transactions.delete(a[0]);
        if (!end) throw new PlinthError(409, 'PLINTH_ERR_SANDBOX_DENIED', 'no such transaction');
        await end(a[1] === true);
        return;
      }
      case 'deps.check': {
        const refs = Object.fromEntries((a[0] as Array<{ key: string; id: string; optional: boolean }>).map(r => [r.key, { id: String(r.id), optional: !!r.optional }]));
        checkDeclaredDependencies(ctx.pluginId, this.o.manifest, refs as any);
        const present: string[] = [];
        for (const ref of Object.values(refs)) {
          if (ref.id.startsWith('core.')) throw new PlinthError(500, 'PLINTH_ERR_SANDBOX_UNSUPPORTED', `${ref.id}: the kernel's services do not cross into a sandboxed plugin`);
          this.deps.add(ref.id);
          if (this.o.service(ref.id) !== undefined) present.push(ref.id);
          else if (!ref.optional) throw new PlinthError(500, 'PLINTH_ERR_DEPENDENCY', `${ctx.pluginId} needs service "${ref.id}", and no active plugin provides it`);
        }
        return present;
      }
      case 'svc.call': {
        const [id, member, args] = a as [string, string, unknown[]];
        const svc = this.deps.has(id) ? this.o.service(id) as Record<string, unknown> | undefined : undefined;
        if (!svc) throw new PlinthError(this.deps.has(id) ? 503 : 403, this.deps.has(id) ? 'PLINTH_ERR_UNAVAILABLE' : 'PLINTH_ERR_SANDBOX_DENIED', `service "${id}" is ${this.deps.has(id) ? 'not available now' : 'not among its deps'}`);
        if (typeof svc[member] !== 'function') throw new PlinthError(500, 'PLINTH_ERR_SANDBOX_UNSUPPORTED', `${id}.${member} is not a method; only methods of a service cross into a sandboxed plugin`);
        return (svc[member] as (...x: unknown[]) => unknown)(...args);
      }
      case 'svc.declare': {
        const ids = a[0] as unknown[];
        if (this.o.provides.length || !Array.isArray(ids)) throw new PlinthError(500, 'PLINTH_ERR_PROVIDES', 'services are declared once, before setup');
        for (const id of ids) {
          // Its own services only: a sandboxed plugin does not implement a kernel service (the tool policy).
          if (typeof id !== 'string' || !id.startsWith(`${ctx.pluginId}.`)) throw new PlinthError(500, 'PLINTH_ERR_PROVIDES', `${ctx.pluginId} may only provide services named "${ctx.pluginId}.<name>", not "${String(id)}"`);
          this.o.provides.push({ id } as ServiceRef<unknown>);
        }
        return;
      }
      case 'svc.provide': {
        // Each method a promise answered by the process (arguments and answer copied across, with the call deadline of any other call).
        const [id, members, h] = a as [string, unknown[], string];
        const stand = Object.fromEntries((Array.isArray(members) ? members : []).filter((m): m is string => typeof m === 'string' && m !== 'then').map(m => [m, (...args: unknown[]) => this.proc.invoke(h, [m, args])]));
        ctx.provide({ id } as ServiceRef<unknown>, stand);
        return;
      }
      case 'auth.verifyToken': return ctx.auth.verifyToken(a[0], a[1]);
      case 'auth.getUser': return ctx.auth.getUser(a[0]);
      default: throw new PlinthError(400, 'PLINTH_ERR_SANDBOX_DENIED', `unknown call "${method}"`);
    }
  }

  private handle(runner: SqlRunner): string {
    const h = `db${++this.seq}`;
    this.handles.set(h, runner);
    return h;
  }

  note(method: string, a: any[], faults: PluginFaults, pluginId: string): void {
    if (method === 'log') {
      const [level, msg, fields] = a;
      const log = this.ctx.log as any;
      if (['debug', 'info', 'warn', 'error'].includes(level)) log[level](String(msg), { ...(fields ?? {}), sandboxed: true });
    } else if (method === 'fault') {
      faults.pluginFailed(pluginId, new Error(String(a[1])), `${a[0]} in its sandbox`);
    } else if (method === 'sse') {
      const [rid, op, arg] = a;
      const s = this.streams.get(rid);
      if (!s) return;
      if (op === 'open') {
        s.cancelTimeout?.();
        s.open = s.req.sse();
        void s.open.done.then(() => this.proc.post({ t: 'sse.done', rid }));
      } else if (op === 'send') s.open?.send(arg);
      else if (op === 'comment') s.open?.comment(arg);
      else if (op === 'close') s.open?.close();
    }
  }

  /** A request to one of its routes, answered by the process. */
  private async serve(h: string, req: RouteRequest): Promise<unknown> {
    const rid = ++this.seq;
    const entry: { req: RouteRequest; open?: any; cancelTimeout?: () => void } = { req };
    this.streams.set(rid, entry);
    const onAbort = () => this.proc.post({ t: 'abort', rid });
    req.signal.addEventListener('abort', onAbort, { once: true });
    const lastEventId = (req.headers['last-event-id'] as string | undefined) ?? (typeof req.query.last_event_id === 'string' ? req.query.last_event_id : undefined);
    const plain = { method: req.method, path: req.path, params: req.params, query: req.query, body: req.body, rawBody: req.rawBody, headers: req.headers, user: req.user, ip: req.ip, lastEventId };
    try {
      const answer = await this.asUser(req.user, () => this.proc.invoke(h, [rid, plain], undefined, { started: cancel => { entry.cancelTimeout = cancel; } })) as { result?: unknown; sse?: boolean };
      return answer?.result;
    } catch (err) {
      if ((err as PlinthError).code === 'PLINTH_ERR_PLUGIN_TIMEOUT') this.proc.post({ t: 'abort', rid });
      if (entry.open) { entry.open.close(); return; }
      throw err;
    } finally {
      req.signal.removeEventListener('abort', onAbort);
      this.streams.delete(rid);
    }
  }
}
