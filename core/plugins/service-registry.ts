import { instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import { clusterLinkRef, requestObserverRef, toolPolicyRef, type PluginScope } from '../../sdk';

/** Kernel-owned services a plugin may implement, when its manifest names them under `contributes.services`. */
export const PLUGIN_IMPLEMENTED_SERVICES: ReadonlySet<string> = new Set([toolPolicyRef.id, clusterLinkRef.id, requestObserverRef.id]);
const IMPLEMENTER = 'plinth.implementer';

/** A service factory as the kernel holds it; the SDK's `ServiceFactory` is one of these. */
export type HostServiceFactory<G extends PluginScope = PluginScope> =
  | { readonly service: { readonly id: string }; readonly scope: 'root'; factory(): unknown }
  | { readonly service: { readonly id: string }; readonly scope: 'plugin'; factory(generation: G): unknown };

/** The provider of a service is named by its ref id's prefix: `agents.runtime` → `agents`. */
export function providerOf(refId: string): string {
  const dot = refId.indexOf('.');
  return dot < 0 ? refId : refId.slice(0, dot);
}

/**
 * The one service registry, on tsyringe, with service ref ids as tokens:
 * - the root container holds the kernel's `root`-scoped services (and a test kernel's stand-ins);
 * - each plugin generation gets a child container with the `plugin`-scoped ones, made on first
 *   use, and what its setup `provide`s;
 * - what a serving plugin provides is registered in that plugin's provider container (a child of
 *   root, one per plugin id), which is emptied and refilled when another generation takes over.
 *   A ref's id prefix names its provider, so a lookup goes straight to it. (tsyringe cannot
 *   unregister one token, and registering again on every reload would keep every retired
 *   service reachable; `reset()` of a container of its own can.)
 */
export class ServiceRegistry<G extends PluginScope = PluginScope> {
  private readonly pluginScoped: Array<Extract<HostServiceFactory<G>, { scope: 'plugin' }>> = [];

  /**
   * Later factories replace earlier ones for the same ref, whatever their scope. `implemented` hears
   * when a kernel-owned service gets an implementation, or loses it (undefined).
   */
  constructor(private readonly root: DependencyContainer, factories: HostServiceFactory<G>[], private readonly implemented?: (id: string, impl: unknown) => void) {
    const byId = new Map(factories.map(f => [f.service.id, f] as const));
    for (const f of byId.values()) {
      if (f.scope === 'plugin') this.pluginScoped.push(f);
      else root.register(f.service.id, { useFactory: instanceCachingFactory(() => f.factory()) });
    }
  }

  /** The container of one plugin generation: its plugin-scoped services, made for it on first use. */
  scopeFor(generation: G): DependencyContainer {
    const container = this.root.createChildContainer();
    for (const f of this.pluginScoped) container.register(f.service.id, { useFactory: instanceCachingFactory(() => f.factory(generation)) });
    return container;
  }

  /** Makes what `generation` provides the services other plugins get from `pluginId`. */
  install(pluginId: string, generation: { container: DependencyContainer; provides: ReadonlyArray<{ id: string }> }): void {
    this.uninstall(pluginId);
    for (const ref of generation.provides) {
      const impl = generation.container.resolve(ref.id);
      if (providerOf(ref.id) === pluginId) {
        this.providerContainer(pluginId).register(ref.id, { useValue: impl });
      } else {
        // A kernel-owned service implemented by this plugin: a container of its own, naming who holds it.
        const holder = this.providerContainer(ref.id);
        holder.register(ref.id, { useValue: impl });
        holder.register(IMPLEMENTER, { useValue: pluginId });
        this.implemented?.(ref.id, impl);
      }
    }
  }

  uninstall(pluginId: string): void {
    this.providerContainer(pluginId).reset();
    for (const id of PLUGIN_IMPLEMENTED_SERVICES) {
      if (this.implementer(id) !== pluginId) continue;
      this.providerContainer(id).reset();
      this.implemented?.(id, undefined);
    }
  }

  /** What the plugin implementing a kernel-owned service (the tool policy) provides, if one does. */
  implementation<T = unknown>(id: string): T | undefined {
    const holder = this.providerContainer(id);
    return holder.isRegistered(id) ? holder.resolve<T>(id) : undefined;
  }

  /** The plugin serving a kernel-owned service (the tool policy), if one does. */
  implementer(id: string): string | undefined {
    const holder = this.providerContainer(id);
    return holder.isRegistered(IMPLEMENTER) ? holder.resolve<string>(IMPLEMENTER) : undefined;
  }

  /**
   * A service by ref id, as `from` (a generation's container, else root) sees it: a plugin's
   * service from its serving provider, else whatever `from` or root holds (kernel services, a
   * test kernel's stand-ins). Undefined when nothing provides it.
   */
  get<T = unknown>(id: string, from: DependencyContainer = this.root): T | undefined {
    const provider = providerOf(id);
    if (provider !== 'core') {
      const holder = this.providerContainer(provider);
      if (holder.isRegistered(id)) return holder.resolve<T>(id);
    }
    return from.isRegistered(id, true) ? from.resolve<T>(id) : undefined;
  }

  private providerContainer(pluginId: string): DependencyContainer {
    const token = `plinth.provider:${pluginId}`;
    if (!this.root.isRegistered(token)) this.root.register(token, { useValue: this.root.createChildContainer() });
    return this.root.resolve<DependencyContainer>(token);
  }
}
