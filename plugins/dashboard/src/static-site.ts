import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { reply, type Reply } from 'plinth/sdk';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.map': 'application/json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.svg', '.map']);

interface StaticFile { body: Buffer; compressible: boolean; gzip?: Buffer; type: string; etag: string; immutable: boolean }

/**
 * The built bundle, held in memory (it is small) with its ETag computed once and its gzip on the
 * first request that accepts it (level 9 on every start cost the kernel's cold start ~15 ms). Hashed
 * assets are cached for a year; index.html is revalidated by ETag, and answers every client route.
 */
export class StaticSite {
  private readonly files = new Map<string, StaticFile>();

  constructor(private readonly distDir: string) {
    this.load();
  }

  private load(): void {
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) { walk(p); continue; }
        if (name.endsWith('.tmp') || name === 'build.json') continue;
        const rel = relative(this.distDir, p).split('\\').join('/');
        const body = readFileSync(p);
        const ext = extname(name);
        this.files.set(rel, {
          body, type: TYPES[ext] ?? 'application/octet-stream',
          compressible: COMPRESSIBLE.has(ext) && body.length > 512,
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
          immutable: rel.startsWith('assets/'),
        });
      }
    };
    walk(this.distDir);
  }

  /** `path` is relative to /dashboard/, without a leading slash. */
  serve(path: string, headers: Record<string, string | string[] | undefined>): Reply {
    let file = this.files.get(path);
    if (!file) {
      // Unknown assets are 404s (a stale page must not get HTML for its script); anything else is a client route.
      if (path.startsWith('assets/') || /\.[a-z0-9]{1,5}$/i.test(path)) {
        return reply(404, { error: { code: 'PLINTH_ERR_NOT_FOUND', message: `no dashboard file ${path}` } });
      }
      file = this.files.get('index.html');
      if (!file) return reply(503, { error: { code: 'PLINTH_ERR_DASHBOARD_NOT_BUILT', message: 'the dashboard bundle is not built: run npm run build' } });
    }
    const common: Record<string, string> = {
      etag: file.etag, vary: 'Accept-Encoding',
      'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    };
    if (file.type.startsWith('text/html')) {
      common['content-security-policy'] = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'";
      common['referrer-policy'] = 'same-origin';
    }
    if (headers['if-none-match'] === file.etag) return reply(304, undefined, { headers: common });
    const acceptsGzip = /\bgzip\b/.test(String(headers['accept-encoding'] ?? ''));
    if (file.compressible && acceptsGzip) return reply(200, (file.gzip ??= gzipSync(file.body, { level: 9 })), { headers: { ...common, 'content-encoding': 'gzip' }, type: file.type });
    return reply(200, file.body, { headers: common, type: file.type });
  }

  get size(): number { return this.files.size; }
}
