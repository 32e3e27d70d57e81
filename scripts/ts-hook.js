'use strict';
// Loads TypeScript as CommonJS through esbuild, with a content-addressed disk cache.
// Why CommonJS and not ESM import(): ESM modules are never evicted, so hot reload would
// keep every plugin generation alive; CommonJS entries can be purged (see core/module-loader.ts).
// Why esbuild and not tsc: plugin code must not rely on decorator metadata, so any
// transpiler works, and esbuild is fast enough to run on demand.
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const Module = require('node:module');

if (!globalThis.__plinthTsHook) {
  globalThis.__plinthTsHook = true;
  // esbuild is needed only on a cache miss; most starts never load it.
  let esbuild;
  const cacheDir = path.join(__dirname, '..', 'node_modules', '.cache', 'plinth-ts');
  try { fs.mkdirSync(cacheDir, { recursive: true }); } catch { /* read-only install: no cache */ }
  const hookVersion = '1';

  function compile(source, filename) {
    const key = crypto.createHash('sha1').update(hookVersion).update(filename).update(source).digest('hex');
    const cached = path.join(cacheDir, key + '.js');
    try { return fs.readFileSync(cached, 'utf8'); } catch { /* miss */ }
    esbuild ??= require('esbuild');
    const out = esbuild.transformSync(source, {
      loader: filename.endsWith('.tsx') ? 'tsx' : 'ts',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      sourcefile: filename,
      tsconfigRaw: { compilerOptions: { experimentalDecorators: true, useDefineForClassFields: false } },
    }).code;
    try {
      const tmp = cached + '.' + process.pid + '.tmp';
      fs.writeFileSync(tmp, out);
      fs.renameSync(tmp, cached);
    } catch { /* cache is best effort */ }
    return out;
  }

  for (const ext of ['.ts', '.tsx']) {
    Module._extensions[ext] = function loadTs(module, filename) {
      const source = fs.readFileSync(filename, 'utf8');
      module._compile(compile(source, filename), filename);
    };
  }
  // In a checkout, `plinth/sdk`, `plinth/testing` (package.json `exports`, which point at the
  // compiled dist/ an npm package ships) resolve to their TypeScript sources beside dist/: one
  // copy of each module, never a stale build. An installed package has no sources; dist/ serves.
  const root = path.join(__dirname, '..');
  const distPrefix = path.join(root, 'dist') + path.sep;
  const sourceOf = new Map();
  const resolveFilename = Module._resolveFilename;
  const toSource = file => {
    if (typeof file !== 'string' || !file.startsWith(distPrefix) || !file.endsWith('.js')) return null;
    let source = sourceOf.get(file);
    if (source === undefined) {
      const candidate = path.join(root, file.slice(distPrefix.length, -3) + '.ts');
      source = fs.existsSync(candidate) ? candidate : null;
      sourceOf.set(file, source);
    }
    return source;
  };
  Module._resolveFilename = function resolveSource(...args) {
    let file;
    try {
      file = resolveFilename.apply(this, args);
    } catch (err) {
      // An `exports` target in a dist/ never built: Node names the missing file in its message.
      const missing = err && err.code === 'MODULE_NOT_FOUND' && /Cannot find module '([^']+)'/.exec(err.message);
      const source = missing && toSource(missing[1]);
      if (source) return source;
      throw err;
    }
    return toSource(file) ?? file;
  };

  // Node computes line tables for every module with a source map at load time, which costs
  // ~200 ms of cold start; stack traces map to TypeScript lines only when asked for.
  if (process.env.PLINTH_SOURCE_MAPS === '1') process.setSourceMapsEnabled(true);
}
