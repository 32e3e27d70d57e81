import { topologicalOrder } from '../../sdk';

/**
 * Orders plugins so that each starts after what it depends on. Optional dependencies order
 * only when present. Returns the order and the plugins that cannot start, each with its reason.
 */
export function dependencyOrder(
  nodes: Map<string, { dependsOn: string[]; optionalDependsOn: string[] }>,
): { order: string[]; failed: Map<string, string> } {
  const failed = new Map<string, string>();
  const { order, cycles } = topologicalOrder(nodes.keys(), id => [...nodes.get(id)!.dependsOn, ...nodes.get(id)!.optionalDependsOn]);
  for (const cycle of cycles) for (const member of cycle) failed.set(member, `dependency cycle: ${cycle.join(' -> ')}`);
  // Dependencies come first in `order`, so one pass carries a failure to everything that needs it.
  for (const id of order) {
    if (failed.has(id)) continue;
    for (const dep of nodes.get(id)!.dependsOn) {
      if (!nodes.has(dep)) failed.set(id, `depends on "${dep}", which is not loaded (missing from the registry, disabled or broken)`);
      else if (failed.has(dep)) failed.set(id, `depends on "${dep}", which failed: ${failed.get(dep)}`);
      else continue;
      break;
    }
  }
  return { order: order.filter(id => !failed.has(id)), failed };
}
