import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errors, topologicalOrder, type SchemaCheckResult, type ValidatorService } from 'plinth/sdk';
import { TemplateSchema } from './schemas';

export interface TemplateStep {
  id: string;
  kind: string;
  title?: string;
  request: Record<string, unknown>;
  depends_on: string[];
  max_retries?: number;
  result_schema?: Record<string, unknown>;
}

export interface JobTemplate {
  name: string;
  description?: string;
  inputs?: Record<string, unknown>;
  steps: TemplateStep[];
  file: string;
}

/** `*.job_workflow.yaml` files under `$PLINTH_DATA_DIR/templates`, read fresh on each call (they are few and small). */
export class TemplateLibrary {
  private readonly checkTemplate: (doc: unknown) => SchemaCheckResult;

  constructor(private readonly dir: string, private readonly validator: ValidatorService) {
    this.checkTemplate = validator.compile(TemplateSchema, { where: 'template' });
  }

  list(): Array<JobTemplate | { file: string; error: string }> {
    let files: string[];
    try { files = readdirSync(this.dir).filter(f => f.endsWith('.job_workflow.yaml')).sort(); } catch { return []; }
    return files.map(f => {
      try { return this.load(f); } catch (err: any) { return { file: f, error: err.message }; }
    });
  }

  get(name: string): JobTemplate {
    const found = this.list().find(t => 'name' in t && t.name === name);
    if (!found) throw errors.notFound(`template ${name}`);
    return found as JobTemplate;
  }

  private load(file: string): JobTemplate {
    // yaml only when there are templates to read: most starts have none (~30 ms of cold start).
    const { parse } = require('yaml') as typeof import('yaml');
    const doc = parse(readFileSync(join(this.dir, file), 'utf8'));
    const checked = this.checkTemplate(doc);
    if (!checked.ok) throw new Error(`invalid template: ${checked.message}`);
    const t = doc as unknown as JobTemplate;
    const ids = new Set(t.steps.map(s => s.id));
    if (ids.size !== t.steps.length) throw new Error('invalid template: step ids must be unique');
    for (const s of t.steps) for (const d of s.depends_on) if (!ids.has(d)) throw new Error(`invalid template: step ${s.id} depends on unknown step ${d}`);
    if (t.inputs) this.validator.compile(t.inputs);
    order(t.steps);
    return { ...t, file };
  }

  /** Checks inputs against the template's JSON Schema; a mismatch is a 400 naming the fields. */
  validateInputs(t: JobTemplate, inputs: Record<string, unknown>): void {
    if (!t.inputs) return;
    const checked = this.validator.compile(t.inputs, { where: 'inputs' })(inputs);
    if (!checked.ok) throw errors.validation(`inputs do not fit template ${t.name}: ${checked.message}`, checked.details);
  }
}

/** Steps in dependency order; a cycle is an error that names it. */
export function order(steps: TemplateStep[]): TemplateStep[] {
  const byId = new Map(steps.map(s => [s.id, s]));
  const { order: ids, cycles } = topologicalOrder(byId.keys(), id => byId.get(id)!.depends_on);
  if (cycles.length) throw new Error(`invalid template: dependency cycle ${cycles[0].join(' -> ')}`);
  return ids.map(id => byId.get(id)!);
}

/** Replaces `{{ inputs.x }}` in strings; a string that is only a placeholder takes the input's value as is. */
export function interpolate(value: unknown, inputs: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{\s*inputs\.([A-Za-z0-9_]+)\s*\}\}$/.exec(value);
    if (whole) return inputs[whole[1]];
    return value.replace(/\{\{\s*inputs\.([A-Za-z0-9_]+)\s*\}\}/g, (_, k) => {
      const v = inputs[k];
      return v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map(v => interpolate(v, inputs));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, inputs)]));
  return value;
}
