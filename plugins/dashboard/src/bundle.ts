import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** What a build leaves in dist/build.json: the hash of the sources it was built from, and its files. */
export interface BuildInfo { sourceHash: string; entry: { js: string; css: string[] }; builtAt: string }

const ENTRY = 'main.tsx';

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out); else out.push(p);
  }
  return out;
}

/**
 * Hash of everything the bundle is made of: the web/ sources, this builder, and the versions of
 * the front-end packages, so a changed dependency rebuilds too.
 */
export function sourceHash(pluginDir: string): string {
  const h = createHash('sha256');
  const webDir = join(pluginDir, 'web');
  for (const f of [...walk(webDir), __filename]) {
    h.update(relative(pluginDir, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  for (const pkg of ['preact', '@xterm/xterm', '@xterm/addon-fit', 'esbuild']) {
    try { h.update(`${pkg}@${require(`${pkg}/package.json`).version}`); } catch { h.update(`${pkg}@?`); }
  }
  return h.digest('hex').slice(0, 16);
}

export function readBuildInfo(distDir: string): BuildInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(join(distDir, 'build.json'), 'utf8')) as BuildInfo;
    const files = [info.entry.js, ...info.entry.css, 'index.html'];
    return files.every(f => existsSync(join(distDir, f))) ? info : undefined;
  } catch { return undefined; }
}

/** Builds dist/ unless it was already built from these exact sources; answers whether it built. */
export async function ensureBundle(pluginDir: string, options: { force?: boolean } = {}): Promise<{ built: boolean; info: BuildInfo; ms: number }> {
  // A duration, so the monotonic clock; this also runs outside a kernel (the build script), where no ctx.clock exists.
  const started = performance.now();
  const distDir = join(pluginDir, 'dist');
  const hash = sourceHash(pluginDir);
  const current = readBuildInfo(distDir);
  if (!options.force && current?.sourceHash === hash) return { built: false, info: current, ms: Math.round(performance.now() - started) };
  const info = await buildBundle(pluginDir, hash);
  return { built: true, info, ms: Math.round(performance.now() - started) };
}

async function buildBundle(pluginDir: string, hash: string): Promise<BuildInfo> {
  const esbuild: typeof import('esbuild') = require('esbuild');
  const distDir = join(pluginDir, 'dist');
  const assetsDir = join(distDir, 'assets');
  mkdirSync(assetsDir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [join(pluginDir, 'web', ENTRY)],
    bundle: true, minify: true, format: 'esm', splitting: true, target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic', jsxImportSource: 'preact',
    // Content-hashed names: the files are cached for a year and never revalidated.
    entryNames: '[name]-[hash]', chunkNames: 'chunk-[hash]', assetNames: '[name]-[hash]',
    absWorkingDir: pluginDir, outdir: assetsDir, metafile: true, write: true, legalComments: 'none', logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const rel = (p: string) => relative(distDir, join(pluginDir, p)).split('\\').join('/');
  const outputs = Object.entries(result.metafile!.outputs);
  // With code splitting there are chunks beside the entry (xterm is loaded on first use).
  const [entryPath, entryMeta] = outputs.find(([, o]) => o.entryPoint?.endsWith(ENTRY))!;
  const js = rel(entryPath);
  const css = entryMeta.cssBundle ? [rel(entryMeta.cssBundle)] : [];
  const all = outputs.map(([p]) => rel(p));
  writeAtomic(join(distDir, 'index.html'), indexHtml(js, css));
  // A stamp in a file on disk, also written by the build script outside any kernel: the wall clock is the right one.
  const info: BuildInfo = { sourceHash: hash, entry: { js, css }, builtAt: new Date().toISOString() };
  writeAtomic(join(distDir, 'build.json'), JSON.stringify(info, null, 2));
  // Older hashed files are dropped; a page still open on them reloads into the new index.html.
  const keep = new Set(all.map(p => p.replace(/^assets\//, '')));
  for (const name of readdirSync(assetsDir)) if (!keep.has(name)) rmSync(join(assetsDir, name), { force: true });
  return info;
}

/** Written beside and renamed, so a kernel serving dist/ never reads half a file. */
function writeAtomic(file: string, text: string): void {
  // Date.now() only makes the name unique (with the pid); it is no "now" a test would set.
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function indexHtml(js: string, css: string[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Plinth</title>
<link rel="icon" href="data:,">
${css.map(c => `<link rel="stylesheet" href="/dashboard/${c}">`).join('\n')}
<script type="module" src="/dashboard/${js}"></script>
</head>
<body><div id="app"></div></body>
</html>
`;
}
