/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4): every sample line must
 * be `name{label="value",…} number` of a family announced by `# HELP` and `# TYPE` before it, so a
 * malformed line fails the test rather than being skipped.
 */
export interface PromSample { name: string; labels: Record<string, string>; value: number }
export interface PromText { types: Map<string, string>; samples: PromSample[] }

// Values are Go floats (`strconv.ParseFloat`): Inf and NaN in any case (prom-client writes `Nan`).
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([+-]?(?:[0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?|inf|nan))$/i;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)/;

export function parsePrometheusText(text: string): PromText {
  const types = new Map<string, string>();
  const helped = new Set<string>();
  const samples: PromSample[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'HELP') helped.add(meta[2]);
      else if (!/^(counter|gauge|histogram|summary|untyped)$/.test(meta[3])) throw new Error(`line ${i + 1}: unknown type "${meta[3]}"`);
      else if (types.has(meta[2])) throw new Error(`line ${i + 1}: ${meta[2]} is typed twice`);
      else types.set(meta[2], meta[3]);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${i + 1} is not a Prometheus sample: ${line}`);
    const family = [m[1], m[1].replace(/_(bucket|sum|count)$/, '')].find(f => types.has(f));
    if (!family || !helped.has(family)) throw new Error(`line ${i + 1}: ${m[1]} has no # HELP and # TYPE before it`);
    const labels: Record<string, string> = {};
    let rest = m[2] ?? '';
    while (rest) {
      const l = LABEL.exec(rest);
      if (!l) throw new Error(`line ${i + 1}: malformed labels at ${rest}`);
      if (l[1] in labels) throw new Error(`line ${i + 1}: label ${l[1]} twice`);
      labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
      rest = rest.slice(l[0].length);
    }
    const v = m[3].toLowerCase();
    samples.push({ name: m[1], labels, value: v.endsWith('nan') ? NaN : v.endsWith('inf') ? (v.startsWith('-') ? -Infinity : Infinity) : Number(v) });
  }
  return { types, samples };
}

/** The samples named `name` whose labels include `labels`. */
export function samplesOf(parsed: PromText, name: string, labels: Record<string, string> = {}): PromSample[] {
  return parsed.samples.filter(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The one sample named `name` with `labels`; throws when there are none or several. */
export function valueOf(parsed: PromText, name: string, labels: Record<string, string> = {}): number {
  const found = samplesOf(parsed, name, labels);
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0].value;
}
