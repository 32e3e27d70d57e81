import type { WebSocket } from 'ws';
import {
  PlinthError, SCOPE_NAME, coreServices, toolPolicyRef,
  type AuthService, type Clock, type EventBus, type HttpRouter, type KernelInfo, type StorageService, type Timers, type ToolPolicyService, type WsRegistry,
} from '../../sdk';
import type { KernelEventBus } from '../events';
import type { Method } from '../http/routes';
import { openDataSource, pluginDatabase, pluginView, runMigrations, type DatabaseSettings } from '../storage/database';
import { listen } from '../storage/pg-listener';
import { pluginToolRegistry, type KernelToolRegistry } from '../tools';
import { KernelToolPolicy } from '../tool-policy';
import { kernelValidator } from '../validation';
import type { Generation } from './generation';
import type { HostServiceFactory } from './service-registry';

export interface CoreServiceEnv {
  kernel: KernelInfo;
  clock: Clock;
  auth: AuthService;
  bus: KernelEventBus;
  tools: KernelToolRegistry;
  database: DatabaseSettings;
  /** The plugin implementing the tool policy, asked at call time. */
  toolPolicy: () => ToolPolicyService | undefined;
}

/**
 * The kernel's services as factories, after Backstage's default service factories: `root` ones
 * are shared, `plugin` ones are made for each plugin generation and bound to it, so everything
 * they register goes when the generation goes. A test kernel may replace any of them.
 */
export function coreServiceFactories(env: CoreServiceEnv): HostServiceFactory<Generation>[] {
  return [
    { service: coreServices.kernel, scope: 'root', factory: () => env.kernel },
    { service: coreServices.clock, scope: 'root', factory: () => env.clock },
    { service: coreServices.auth, scope: 'root', factory: () => env.auth },
    { service: coreServices.validator, scope: 'root', factory: () => kernelValidator },
    { service: toolPolicyRef, scope: 'root', factory: () => new KernelToolPolicy(env.toolPolicy) },
    { service: coreServices.logger, scope: 'plugin', factory: gen => gen.log },
    { service: coreServices.config, scope: 'plugin', factory: gen => gen.config },
    { service: coreServices.http, scope: 'plugin', factory: httpRouter },
    { service: coreServices.ws, scope: 'plugin', factory: wsRegistry },
    { service: coreServices.events, scope: 'plugin', factory: gen => eventBus(gen, env.bus) },
    { service: coreServices.tools, scope: 'plugin', factory: gen => pluginToolRegistry(gen.toolSet, env.tools) },
    { service: coreServices.storage, scope: 'plugin', factory: gen => storageService(gen, env.database) },
    { service: coreServices.timers, scope: 'plugin', factory: timers },
  ];
}

function httpRouter(gen: Generation): HttpRouter {
  const add = (method: Method) => (path: string, options: any, handler: any) =>
    gen.own(gen.routes.add({ method, path: gen.fullPath(path, 'routes'), options, handler }));
  return { get: add('GET'), post: add('POST'), put: add('PUT'), patch: add('PATCH'), delete: add('DELETE') };
}

function wsRegistry(gen: Generation): WsRegistry {
  return {
    handle: (path, options, handler) => {
      const full = gen.fullPath(path, 'ws');
      if (gen.wsEndpoints.has(full)) throw new PlinthError(500, 'PLINTH_ERR_WS_DUPLICATE', `WebSocket ${full} is registered twice by ${gen.pluginId}`);
      if (!options || !['public', 'user', 'admin'].includes(options.auth)) {
        throw new PlinthError(500, 'PLINTH_ERR_ROUTE_AUTH', `WebSocket ${full} of ${gen.pluginId} must declare auth: public, user or admin`);
      }
      if (options.scope !== undefined && !SCOPE_NAME.test(String(options.scope))) {
        throw new PlinthError(500, 'PLINTH_ERR_ROUTE_AUTH', `WebSocket ${full} of ${gen.pluginId}: scope must be a name matching ${SCOPE_NAME}`);
      }
      const sockets = new Set<WebSocket>();
      gen.wsEndpoints.set(full, { owner: gen.pluginId, auth: options.auth, scope: options.scope, handler, sockets });
      return gen.own(() => {
        gen.wsEndpoints.delete(full);
        // Sockets must not go on talking to a disposed generation: clients reconnect to the new one.
        for (const socket of sockets) socket.close(1012, 'plugin reloaded or disabled; reconnect');
      });
    },
  };
}

function eventBus(gen: Generation, bus: KernelEventBus): EventBus {
  return {
    publish: (topic, payload, options) => bus.publish(topic, payload, options),
    replay: (pattern, after, limit) => bus.replay(pattern, after, limit),
    subscribe: (pattern, handler) => gen.whenLive(() => bus.subscribe(pattern, gen.guard('event handler', handler))),
  };
}

function timers(gen: Generation): Timers {
  return {
    setTimeout: (fn, ms) => gen.whenLive(done => {
      const run = gen.guard('timer', fn);
      const t = setTimeout(() => { done(); run(); }, ms);
      return () => clearTimeout(t);
    }),
    setInterval: (fn, ms) => gen.whenLive(() => { const t = setInterval(gen.guard('interval', fn), ms); return () => clearInterval(t); }),
  };
}

function storageService(gen: Generation, database: DatabaseSettings): StorageService {
  return {
    open: async (options = {}) => {
      const ds = await openDataSource(database, gen.pluginId);
      gen.own(() => ds.destroy());
      const db = pluginDatabase(ds, database.dialect, gen.pluginId);
      const applied = await runMigrations(db, gen.pluginId, options.migrations ?? []);
      if (applied.length) gen.log.info('migrations applied', { migrations: applied });
      const view = pluginView(db);
      if (database.dialect === 'postgres') view.listen = async (channel, onMessage) => gen.own(await listen(database.location, db.table(channel), onMessage, gen.log));
      return view;
    },
  };
}
