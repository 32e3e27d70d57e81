#!/usr/bin/env node
'use strict';
// `npm pack` / `npm publish` (prepack): compiles the kernel, the sandboxed plugins' child runtime, the SDK, plinth/testing and the CLI to
// CommonJS in dist/ (esbuild, file by file, no bundling: plugins and the kernel must share one
// `plinth/sdk` module), emits their type declarations with tsc, and builds the first-party
// plugins' assets (the dashboard's web bundle). First-party plugins ship as TypeScript and load
// through scripts/ts-hook.js, as any plugin written in TypeScript does.
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join, relative, resolve, sep } = require('node:path');
const esbuild = require('esbuild');

const root = join(__dirname, '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

const entryPoints = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'test' && name !== 'node_modules') walk(p); }
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts') && !name.endsWith('.test.ts')) entryPoints.push(relative(root, p));
  }
}
for (const d of ['core', 'runtime', 'sdk', 'testing', 'cli']) walk(join(root, d));

esbuild.buildSync({
  entryPoints, outdir: dist, outbase: root, absWorkingDir: root,
  format: 'cjs', platform: 'node', target: 'node20', bundle: false, logLevel: 'warning',
  tsconfigRaw: { compilerOptions: { experimentalDecorators: true, useDefineForClassFields: false } },
});

// A relative import that leaves the compiled folders (testing's fixtures use a first-party
// plugin's contract) points from dist/ at the shipped TypeScript: one level further up.
const compiled = ['core', 'runtime', 'sdk', 'testing', 'cli'].map(d => join(root, d) + sep);
for (const entry of entryPoints) {
  const out = join(dist, entry.replace(/\.tsx?$/, '.js'));
  const code = readFileSync(out, 'utf8');
  const fixed = code.replace(/require\("(\.{1,2}\/[^"]+)"\)/g, (all, spec) => {
    const target = resolve(root, dirname(entry), spec);
    if (compiled.some(c => (target + sep).startsWith(c))) return all;
    const rel = relative(dirname(out), target).split(sep).join('/');
    return `require(${JSON.stringify(rel.startsWith('.') ? rel : './' + rel)})`;
  });
  if (fixed !== code) writeFileSync(out, fixed);
}

const run = (args, what) => {
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) { console.error(`prepack: ${what} failed`); process.exit(r.status ?? 1); }
};
run([join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], 'type declarations (tsc)');
for (const dir of readdirSync(join(root, 'plugins')).sort()) {
  const script = join(root, 'plugins', dir, 'build.ts');
  if (existsSync(script)) run(['--require', join(root, 'scripts', 'ts-hook.js'), script], `plugins/${dir}/build.ts`);
}
console.error(`prepack: ${entryPoints.length} files compiled to dist/, with declarations`);
