import type { Disposer } from './types';

/**
 * Typed service refs, after Backstage's `createServiceRef`. A ref is only a name with a type
 * attached: plugins find each other's services through the kernel by `id`, so two copies of the
 * SDK (a third-party plugin with its own) still agree. By convention `id` is `<pluginId>.<name>`;
 * kernel services use `core.<name>`.
 */
export interface ServiceRef<T> {
  readonly id: string;
  readonly optional: false;
  /** Phantom field carrying the service type; never set at run time. */
  readonly T?: T;
  /** The same service, but setup still runs (with `undefined`) when no plugin provides it. */
  asOptional(): OptionalServiceRef<T>;
}

export interface OptionalServiceRef<T> {
  readonly id: string;
  readonly optional: true;
  readonly T?: T;
}

export type AnyServiceRef = ServiceRef<unknown> | OptionalServiceRef<unknown>;

export function createServiceRef<T>(options: { id: string }): ServiceRef<T> {
  if (!/^[a-z][a-z0-9-]*(\.[a-zA-Z][a-zA-Z0-9_-]*)+$/.test(options.id)) {
    throw new Error(`service ref id "${options.id}" must look like "<plugin>.<name>"`);
  }
  const ref: ServiceRef<T> = {
    id: options.id,
    optional: false,
    asOptional: () => ({ id: options.id, optional: true }),
  };
  return ref;
}

export type ResolvedDeps<D> = {
  [K in keyof D]: D[K] extends OptionalServiceRef<infer T> ? T | undefined
    : D[K] extends ServiceRef<infer T> ? T : never;
};

/** What a plugin-scoped service factory is given: the plugin generation the service is made for. */
export interface PluginScope {
  readonly pluginId: string;
  readonly generation: number;
  /** Runs when this generation is disposed (reload, disable, stop). */
  onDispose(fn: Disposer): void;
}

/**
 * How a service is made, after Backstage's `createServiceFactory`: a `root` service exists once
 * per kernel, a `plugin` one once per plugin generation. The kernel's own services are made by
 * factories too, so a test kernel can replace any of them (`serviceFactories` of createTestKernel).
 */
export type ServiceFactory<T = unknown> =
  | { readonly service: ServiceRef<T>; readonly scope: 'root'; factory(): T }
  | { readonly service: ServiceRef<T>; readonly scope: 'plugin'; factory(plugin: PluginScope): T };

export function createServiceFactory<T>(options: ServiceFactory<T>): ServiceFactory<T> {
  return options;
}
