/**
 * Orders plugins so that each starts after what it depends on. Optional dependencies order
 * only when present. Returns the order and the plugins that cannot start, each with its reason.
 */
export function dependencyOrder(
  nodes: Map<string, { dependsOn: string[]; optionalDependsOn: string[] }>,
): { order: string[]; failed: Map<string, string> } {
  const failed = new Map<string, string>();
  const state = new Map<string, 'visiting' | 'done'>();
  const order: string[] = [];

  const visit = (id: string, stack: string[]): boolean => {
    if (failed.has(id)) return false;
    if (state.get(id) === 'done') return true;
    if (state.get(id) === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(id)), id];
      for (const member of cycle) failed.set(member, `dependency cycle: ${cycle.join(' -> ')}`);
      return false;
    }
    state.set(id, 'visiting');
    const node = nodes.get(id)!;
    let ok = true;
    for (const dep of node.dependsOn) {
      if (!nodes.has(dep)) {
        failed.set(id, `depends on "${dep}", which is not loaded (missing from the registry, disabled or broken)`);
        ok = false;
      } else if (!visit(dep, [...stack, id])) {
        if (!failed.has(id)) failed.set(id, `depends on "${dep}", which failed: ${failed.get(dep)}`);
        ok = false;
      }
    }
    for (const dep of node.optionalDependsOn) if (nodes.has(dep)) visit(dep, [...stack, id]);
    state.set(id, 'done');
    if (ok && !failed.has(id)) order.push(id);
    return ok && !failed.has(id);
  };

  for (const id of nodes.keys()) visit(id, []);
  return { order: order.filter(id => !failed.has(id)), failed };
}
