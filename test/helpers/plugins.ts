import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * Temporary plugin folders live inside the repository (git-ignored), so that their
 * `import … from 'plinth/sdk'` resolves the way a real plugin's does.
 */
export function tempDir(prefix = 'plugins-'): string {
  const base = join(ROOT, '.test-tmp');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, prefix));
}

export interface PluginSpec {
  id: string;
  manifest?: Record<string, unknown>;
  /** Source of src/index.ts. */
  code: string;
  files?: Record<string, string>;
}

export function writePlugin(parent: string, spec: PluginSpec): string {
  const dir = join(parent, spec.id);
  mkdirSync(join(dir, 'src'), { recursive: true });
  const manifest = { id: spec.id, version: '1.0.0', kernel: '^1.0.0', main: 'src/index.ts', ...spec.manifest };
  writeFileSync(join(dir, 'plugin.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(dir, 'src', 'index.ts'), spec.code);
  for (const [name, content] of Object.entries(spec.files ?? {})) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** A plugin whose route answers a fixed text, for reload tests. */
export function versionedPlugin(id: string, version: string): PluginSpec {
  return {
    id,
    code: `import { definePlugin } from 'plinth/sdk';
export default definePlugin({
  setup({ http }) {
    http.get('/version', { auth: 'public' }, () => ({ version: ${JSON.stringify(version)} }));
  },
});
`,
  };
}
