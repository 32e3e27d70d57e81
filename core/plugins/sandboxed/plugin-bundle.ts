import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { PlinthError } from '../../../sdk';
import { ROOT_DIR } from '../../version';
import type { ProcessSpec } from './plugin-process';

const CHECKOUT = ROOT_DIR;
/** A checkout bundles the TypeScript sources; an installed package (npm pack) its compiled dist/. */
const FROM_SOURCE = __filename.endsWith('.ts');
const SDK_ENTRY = FROM_SOURCE ? join(CHECKOUT, 'sdk/index.ts') : join(CHECKOUT, 'dist/sdk/index.js');
/** What runs inside the plugin's process (runtime/plugin-child.ts): not kernel code, bundled with the plugin. */
const CHILD_ENTRY = FROM_SOURCE ? join(CHECKOUT, 'runtime/plugin-child.ts') : join(CHECKOUT, 'dist/runtime/plugin-child.js');

/**
 * The plugin's entry and everything it imports (the SDK included), bundled with the child runtime
 * into one CommonJS file, so the sandbox needs to expose nothing of the kernel's checkout and the
 * process compiles nothing. A restart or reload with no file changed reuses the last bundle (its
 * inputs' sizes and times are kept beside it); undici (800 KB, for the proxy) is bundled only for a
 * plugin granted a host.
 */
export async function bundlePlugin(spec: Pick<ProcessSpec, 'pluginId' | 'mainFile' | 'bundleDir' | 'network'>): Promise<string> {
  const network = spec.network.length > 0;
  const index = join(spec.bundleDir, 'inputs.json');
  const stamp = (f: string) => { try { const st = statSync(f); return `${st.size}:${st.mtimeMs}`; } catch { return 'missing'; } };
  try {
    const last = JSON.parse(readFileSync(index, 'utf8')) as { main: string; network: boolean; file: string; inputs: Record<string, string> };
    if (last.main === spec.mainFile && last.network === network && existsSync(last.file) && Object.entries(last.inputs).every(([f, st]) => stamp(f) === st)) return last.file;
  } catch { /* first bundle, or unreadable: build */ }
  const esbuild = require('esbuild') as typeof import('esbuild');
  const result = await esbuild.build({
    entryPoints: [CHILD_ENTRY], bundle: true, platform: 'node', target: 'node20', format: 'cjs', write: false,
    logLevel: 'silent', sourcemap: false, outfile: 'plugin.js', metafile: true, absWorkingDir: CHECKOUT,
    alias: { 'plinth-sandboxed-entry': spec.mainFile },
    define: { 'process.env.PLINTH_SANDBOX_NETWORK': JSON.stringify(network ? '1' : '0') },
    plugins: [{
      name: 'plinth',
      setup(b) {
        b.onResolve({ filter: /^plinth(\/sdk)?$/ }, () => ({ path: SDK_ENTRY }));
        b.onResolve({ filter: /^plinth\/contracts\// }, a => ({ path: join(CHECKOUT, 'plugins', a.path.slice('plinth/contracts/'.length), 'src/contract.ts') }));
      },
    }],
  }).catch(err => { throw new PlinthError(500, 'PLINTH_ERR_PLUGIN_LOAD', `bundling ${spec.pluginId} for its sandbox failed: ${err.message}`); });
  const code = result.outputFiles[0].contents;
  const file = join(spec.bundleDir, createHash('sha1').update(code).digest('hex').slice(0, 16) + '.js');
  if (!existsSync(file)) {
    // Earlier bundles go; a running process has read its own already.
    rmSync(spec.bundleDir, { recursive: true, force: true });
    mkdirSync(spec.bundleDir, { recursive: true });
    writeFileSync(file, code);
  }
  const inputs: Record<string, string> = {};
  for (const f of Object.keys(result.metafile!.inputs)) { const abs = resolve(CHECKOUT, f); inputs[abs] = stamp(abs); }
  writeFileSync(index, JSON.stringify({ main: spec.mainFile, network, file, inputs }));
  return file;
}

/** The files a sandboxed plugin's bundle was made from, for the watcher's hot reload. */
export function bundleInputs(dataDir: string, pluginId: string, pluginDir: string): string[] {
  try {
    const inputs = Object.keys(JSON.parse(readFileSync(join(bundleDirOf(dataDir, pluginId), 'inputs.json'), 'utf8')).inputs);
    return inputs.filter(f => f.startsWith(pluginDir + sep) && !f.includes(`${sep}node_modules${sep}`));
  } catch { return []; }
}

export const bundleDirOf = (dataDir: string, pluginId: string) => join(dataDir, 'sandbox', pluginId);
