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
