import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { kernelErrors } from '../../sdk';
import { compileSchema, describeErrors } from '../validation';

export interface RegistryEntry {
  id: string;
  path: string;
  enabled: boolean;
  config: Record<string, unknown>;
  /** `sandbox`: the plugin runs in its own process inside the OS sandbox (core/plugins/sandboxed). */
  isolation?: 'in-process' | 'sandbox';
}

const registrySchema = {
  type: 'object',
  required: ['plugins'],
  properties: {
    plugins: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'path'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' },
          path: { type: 'string', minLength: 1 },
          enabled: { type: 'boolean', default: true },
          config: { type: 'object', default: {} },
          isolation: { enum: ['in-process', 'sandbox'] },
        },
      },
    },
  },
};
const validate = compileSchema(registrySchema);

/** The allowlist of plugins. Only what it lists loads; writes go through a rename so a crash never leaves half a file. */
export class RegistryFile {
  constructor(readonly file: string) {}

  read(): RegistryEntry[] {
    let raw: any = undefined;
    try {
      raw = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err: any) {
      if (err.code === 'ENOENT') return [];
      throw kernelErrors.error('PLINTH_ERR_REGISTRY', `${this.file} is not valid JSON: ${err.message}`, { cause: err });
    }
    if (!validate(raw)) {
      throw kernelErrors.error('PLINTH_ERR_REGISTRY', `${this.file}: ${describeErrors('registry', validate.errors).message}`);
    }
    const plugins = (raw as { plugins: RegistryEntry[] }).plugins;
    const seen = new Set<string>();
    for (const p of plugins) {
      if (seen.has(p.id)) throw kernelErrors.error('PLINTH_ERR_REGISTRY', `${this.file}: plugin id "${p.id}" is listed twice`);
      seen.add(p.id);
    }
    return plugins;
  }

  resolvePath(entry: RegistryEntry): string {
    return isAbsolute(entry.path) ? entry.path : resolve(dirname(this.file), entry.path);
  }

  update(mutate: (entries: RegistryEntry[]) => void): RegistryEntry[] {
    const entries = this.read();
    mutate(entries);
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ plugins: entries }, null, 2) + '\n');
    renameSync(tmp, this.file);
    return entries;
  }
}
