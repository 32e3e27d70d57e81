import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { kernelErrors, PlinthError } from '../../sdk';
import { KERNEL_VERSION } from '../version';
import { compileSchema, describeErrors } from '../validation';

export interface PluginManifest {
  id: string;
  version: string;
  kernel: string;
  main: string;
  description?: string;
  dependsOn: string[];
  optionalDependsOn: string[];
  configSchema?: Record<string, unknown>;
  permissions: { network: string[]; pty: boolean; fs: string[]; secrets: string[]; exec?: boolean; memoryMb?: number };
  contributes: { routes: string[]; tools: string[]; ws: string[]; skills: string[]; checks?: string; services: string[] };
}

const ID = '^[a-z][a-z0-9-]{0,62}$';
const ABSOLUTE_PREFIX = '^/[A-Za-z0-9._~:\\-/]*$';

export const manifestSchema = {
  type: 'object',
  required: ['id', 'version', 'kernel', 'main'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    id: { type: 'string', pattern: ID },
    version: { type: 'string', minLength: 1 },
    kernel: { type: 'string', minLength: 1 },
    main: { type: 'string', minLength: 1, pattern: '^[^/]' },
    description: { type: 'string' },
    dependsOn: { type: 'array', items: { type: 'string', pattern: ID }, uniqueItems: true, default: [] },
    optionalDependsOn: { type: 'array', items: { type: 'string', pattern: ID }, uniqueItems: true, default: [] },
    configSchema: { type: 'object' },
    permissions: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        network: { type: 'array', items: { type: 'string' }, default: [] },
        pty: { type: 'boolean', default: false },
        fs: { type: 'array', items: { type: 'string' }, default: [] },
        secrets: { type: 'array', items: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' }, default: [] },
        exec: { type: 'boolean', default: false },
        memoryMb: { type: 'integer', minimum: 32, maximum: 16384 },
      },
    },
    contributes: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        routes: { type: 'array', items: { type: 'string', pattern: ABSOLUTE_PREFIX }, default: [] },
        tools: { type: 'array', items: { type: 'string' }, default: [] },
        ws: { type: 'array', items: { type: 'string', pattern: ABSOLUTE_PREFIX }, default: [] },
        skills: { type: 'array', items: { type: 'string' }, default: [] },
        /** A module whose default export is `defineDoctorChecks({...})`, run by `plinth doctor`. */
        checks: { type: 'string', minLength: 1, pattern: '^[^/]' },
        /** Kernel-owned services this plugin implements (`core.toolPolicy`), beside its own `<id>.*` ones. */
        services: { type: 'array', items: { type: 'string', pattern: '^core\\.[a-zA-Z]+$' }, uniqueItems: true, default: [] },
      },
    },
  },
} as const;

const validateManifest = compileSchema(manifestSchema as any);

export function manifestError(message: string, details?: unknown, cause?: unknown): PlinthError {
  return kernelErrors.error('PLINTH_ERR_MANIFEST', message, { details, cause });
}

/** Reads and checks `plugin.json` without running any plugin code. */
export function readManifest(pluginDir: string, expectedId?: string): PluginManifest {
  const file = join(pluginDir, 'plugin.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err: any) {
    throw manifestError(err.code === 'ENOENT' ? `no plugin.json in ${pluginDir}` : `plugin.json is not valid JSON: ${err.message}`, undefined, err);
  }
  if (!validateManifest(raw)) {
    const { message, details } = describeErrors('plugin.json', validateManifest.errors);
    throw manifestError(`invalid manifest: ${message}`, details);
  }
  const manifest = raw as unknown as PluginManifest;
  if (!semver.valid(manifest.version)) {
    throw manifestError(`invalid manifest: plugin.json/version "${manifest.version}" is not a semver version`, [{ field: 'plugin.json/version', message: 'must be semver' }]);
  }
  if (!semver.validRange(manifest.kernel)) {
    throw manifestError(`invalid manifest: plugin.json/kernel "${manifest.kernel}" is not a semver range`, [{ field: 'plugin.json/kernel', message: 'must be a semver range' }]);
  }
  if (!semver.satisfies(KERNEL_VERSION, manifest.kernel)) {
    throw kernelErrors.error('PLINTH_ERR_KERNEL_RANGE', `plugin ${manifest.id} needs kernel ${manifest.kernel}, this kernel is ${KERNEL_VERSION}`);
  }
  if (expectedId && manifest.id !== expectedId) {
    throw manifestError(`invalid manifest: plugin.json/id is "${manifest.id}" but the registry lists it as "${expectedId}"`, [{ field: 'plugin.json/id', message: 'must match the registry id' }]);
  }
  for (const dep of [...manifest.dependsOn, ...manifest.optionalDependsOn]) {
    if (dep === manifest.id) throw manifestError(`invalid manifest: plugin ${manifest.id} depends on itself`);
  }
  return manifest;
}

/** A copy of a plugin's config, checked against its manifest's configSchema (defaults applied). */
export function validatePluginConfig(pluginId: string, manifest: PluginManifest, config: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(config);
  if (!manifest.configSchema) return copy;
  const validate = compileSchema(manifest.configSchema);
  if (!validate(copy)) {
    const { message, details } = describeErrors('config', validate.errors);
    throw new PlinthError(400, 'PLINTH_ERR_CONFIG', `invalid config for ${pluginId}: ${message}`, details);
  }
  return copy;
}
