import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freshPostgresDatabase } from 'plinth/testing';
import { startServer, until, type ServerProcess } from './server';

export { until };

const ROOT = join(__dirname, '..', '..');
export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find(p => existsSync(p));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as any; s.close(() => resolve(port)); });
    s.once('error', reject);
  });
}

export interface KernelCluster {
  lb: string;
  adminToken: string;
  /** The cluster's PostgreSQL database. */
  databaseUrl: string;
  kernels: ServerProcess[];
  /** Kernel i's PLINTH_DATA_DIR. */
  dataDirs: string[];
  /** SIGKILLs kernel i (as a crash would). */
  kill(i: number): Promise<void>;
  /** Starts kernel i again on its port, data dir and registry. */
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Kernel processes (`node bin/plinth.js start`) on one fresh PostgreSQL database behind nginx
 * with deploy/nginx.conf (round-robin, no stickiness). `plugins(i)` is kernel i's registry, after the cluster and accounts plugins.
 */
export async function startKernelCluster(options: {
  postgresUrl: string; size?: number; plugins(i: number): Array<{ id: string; path: string; config?: Record<string, unknown> }>; env?: Record<string, string>;
}): Promise<KernelCluster> {
  const size = options.size ?? 3;
  const adminToken = 'plt_lb_' + randomBytes(16).toString('hex');
  const db = await freshPostgresDatabase(options.postgresUrl);
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const lbPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'plinth-cluster-'));
  const envFor = (i: number) => {
    const registry = join(dir, `registry-${i}.json`);
    // Every kernel of a cluster runs the cluster plugin (the event relay, nodes, /api/cluster) and
    // the account API (users, tokens, /auth/*), as a deployment does.
    const own = options.plugins(i);
    const plugins = [
      { id: 'cluster', path: join(ROOT, 'plugins', 'cluster') },
      ...(own.some(p => p.id === 'accounts') ? [] : [{ id: 'accounts', path: join(ROOT, 'plugins', 'accounts') }]),
      ...own,
    ];
    if (!existsSync(registry)) writeFileSync(registry, JSON.stringify({ plugins: plugins.map(p => ({ enabled: true, config: {}, ...p })) }));
    return {
      PLINTH_DATABASE_URL: db.databaseUrl, PLINTH_PORT: String(ports[i]), PLINTH_ADMIN_TOKEN: adminToken,
      PLINTH_DATA_DIR: join(dir, `data-${i}`), PLINTH_REGISTRY: registry, PLINTH_TRUST_PROXY: '127.0.0.1', ...options.env,
    };
  };
  const kernels = await Promise.all(ports.map((_, i) => startServer(envFor(i), 60_000)));
  let conf = readFileSync(join(ROOT, 'deploy', 'nginx.conf'), 'utf8')
    .replace('listen 127.0.0.1:7700;', `listen 127.0.0.1:${lbPort};`)
    .replace('http {', `http {\n  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`);
  const upstream = ports.map(p => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n');
  conf = conf.replace(/(    server 127\.0\.0\.1:770\d [^\n]*\n)+/, upstream + '\n');
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const args = ['-p', dir, '-c', join(dir, 'nginx.conf')];
  const check = spawnSync(NGINX!, ['-t', ...args, '-g', `pid ${dir}/nginx.pid; error_log stderr;`], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t failed: ${check.stderr}`);
  const nginx: ChildProcess = spawn(NGINX!, [...args, '-g', `daemon off; pid ${dir}/nginx.pid; error_log stderr;`], { stdio: 'ignore' });
  const lb = `http://127.0.0.1:${lbPort}`;
  await until(async () => (await fetch(lb + '/api/health')).ok, 10_000, 'nginx answering');
  return {
    lb, adminToken, databaseUrl: db.databaseUrl, kernels, dataDirs: ports.map((_, i) => join(dir, `data-${i}`)),
    kill: async i => { kernels[i].kill('SIGKILL'); await kernels[i].exited; },
    restart: async i => { kernels[i] = await startServer(envFor(i), 60_000); },
    stop: async () => {
      nginx.kill('SIGTERM');
      await Promise.all(kernels.map(k => k.stop()));
      await db.dropDatabase();
    },
  };
}
