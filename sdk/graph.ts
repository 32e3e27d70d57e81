/**
 * The one topological sort: `ids` ordered so that each comes after what `dependenciesOf` names
 * (depth first, in the order given, so an order that already fits is kept). Dependencies outside
 * `ids` are skipped; filter or report them first. Every cycle found is answered as its path, its
 * first member again at the end (`a -> b -> a`); its members still appear in `order`, and the
 * caller decides what a cycle means (the kernel fails those plugins, a job template is invalid).
 */
export function topologicalOrder(ids: Iterable<string>, dependenciesOf: (id: string) => Iterable<string>): { order: string[]; cycles: string[][] } {
  const all = new Set(ids);
  const state = new Map<string, 'visiting' | 'done'>();
  const order: string[] = [];
  const cycles: string[][] = [];
  const stack: string[] = [];
  const visit = (id: string) => {
    const seen = state.get(id);
    if (seen === 'done') return;
    if (seen === 'visiting') { cycles.push([...stack.slice(stack.indexOf(id)), id]); return; }
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of dependenciesOf(id)) if (all.has(dep)) visit(dep);
    stack.pop();
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of all) visit(id);
  return { order, cycles };
}
