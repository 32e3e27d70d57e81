import type { RouteTable } from '../http/route-table';
import type { WsTable } from '../http/websocket';
import type { KernelToolRegistry } from '../tools';
import type { Generation } from './generation';
import type { PluginManifest } from './manifest';
import type { ServiceRegistry } from './service-registry';

export interface ContributionTables {
  routeTable: RouteTable;
  wsTable: WsTable;
  tools: KernelToolRegistry;
  services: ServiceRegistry<Generation>;
}

/**
 * The one place where a generation's contributions — path claims, routes, tools, WebSocket
 * endpoints and provided services — become live, and where they go again. Each table swaps a
 * plugin's whole set at once, so there is no moment where neither generation serves.
 */
export class Contributions {
  constructor(private readonly tables: ContributionTables) {}

  /** Checked while preparing, applied at install: a failed reload leaves the old claims alone. */
  checkClaims(pluginId: string, manifest: PluginManifest, mayNestUnder: (holder: string) => boolean, mayHoldInside: (holder: string) => boolean): void {
    this.tables.routeTable.checkClaims(pluginId, claimsOf(pluginId, manifest), mayNestUnder, mayHoldInside);
  }

  install(gen: Generation): void {
    const { routeTable, wsTable, tools, services } = this.tables;
    routeTable.setClaims(gen.pluginId, claimsOf(gen.pluginId, gen.manifest));
    routeTable.setGroup(gen.pluginId, gen.routes);
    tools.install(gen.pluginId, gen.toolSet);
    wsTable.install(gen.pluginId, gen.wsEndpoints);
    services.install(gen.pluginId, gen);
  }

  uninstall(pluginId: string): void {
    const { routeTable, wsTable, tools, services } = this.tables;
    routeTable.setGroup(pluginId, undefined);
    tools.install(pluginId, undefined);
    wsTable.install(pluginId, undefined);
    services.uninstall(pluginId);
    routeTable.setClaims(pluginId, []);
  }
}

function claimsOf(pluginId: string, manifest: PluginManifest): string[] {
  return [...new Set([`/api/${pluginId}`, ...manifest.contributes.routes, ...manifest.contributes.ws])];
}
