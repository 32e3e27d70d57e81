import { ROOT_DIR } from '../core/version';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import semver from 'semver';
import type { DoctorCheckResult } from '../sdk';
import { readManifest } from '../core/plugins/manifest';
import { sandboxCheck } from './sandbox-check';
import { RegistryFile, type RegistryEntry } from '../core/plugins/registry-file';
import type { KernelSettings } from '../core/process-settings';
import { databaseSettings, openDataSource } from '../core/storage/database';
import { kernelMigrations } from '../core/storage/kernel-schema';
import { compileSchema, describeErrors } from '../core/validation';
import { commandContext } from './command';
import { UsageError } from './output';
import { pluginChecks } from './plugin-checks';
import { serverAnswers, type ServerTarget } from './server-client';

export const DOCTOR_USAGE = `usage: plinth doctor [--json] [--url <server>]

Checks Node, the plugin registry, every manifest and its config, the database and its migrations,
the port, and the checks enabled plugins contribute (the agents plugin: do its model providers
answer); says what to fix. Exit 1 if any fails.
`;

export type Check = DoctorCheckResult;
type CheckFn = () => Promise<Check | Check[]>;

const ROOT = ROOT_DIR;

export async function doctorCommand(args: string[]): Promise<number> {
  const ctx = commandContext(args, {}, DOCTOR_USAGE);
  const { out, values, positionals } = ctx;
  if (values.help) { out.line(DOCTOR_USAGE); return 0; }
  if (positionals.length) throw new UsageError('doctor takes no argument', DOCTOR_USAGE);
  const settings = ctx.settings();
  const target = ctx.target();
  const registry = new RegistryFile(settings.registryPath);
  let entries: RegistryEntry[] | undefined;
  let serverUp = false;

  const steps: Array<[string, CheckFn]> = [
    ['node', async () => nodeCheck()],
    ['registry', async () => { const r = registryCheck(registry); entries = r.entries; return r.check; }],
    ['manifests', async () => manifestChecks(registry, entries)],
    ['server', async () => { const r = await portCheck(settings, target); serverUp = r.up; return r.check; }],
    ['database', () => databaseCheck(settings, serverUp)],
    ['plugin checks', () => pluginChecks(registry, entries)],
    ['sandbox', () => sandboxCheck(settings)],
  ];
  const bar = out.progress(steps.length, 'checking');
  const checks: Check[] = [];
  for (const [label, run] of steps) {
    bar.tick(label);
    let result: Check | Check[];
    try { result = await run(); } catch (err: any) { result = { name: label, status: 'fail', detail: err.message }; }
    checks.push(...(Array.isArray(result) ? result : [result]));
  }
  bar.finish();

  const failed = checks.filter(c => c.status === 'fail').length;
  const warned = checks.filter(c => c.status === 'warn').length;
  out.result({ ok: failed === 0, checks, summary: { failed, warned, passed: checks.filter(c => c.status === 'ok').length } });
  const mark = { ok: out.paint('green', '✓'), warn: out.paint('yellow', '!'), fail: out.paint('red', '✗'), skip: out.paint('dim', '-') };
  for (const c of checks) {
    out.line(`${mark[c.status]} ${out.paint('bold', c.name)}  ${c.status === 'skip' ? out.paint('dim', c.detail) : c.detail}`);
    if (c.fix && c.status !== 'ok') out.hint(c.fix);
  }
  out.line(failed ? out.paint('red', `${failed} problem${failed > 1 ? 's' : ''} to fix`) : out.paint('green', warned ? `healthy, ${warned} warning${warned > 1 ? 's' : ''}` : 'all good'));
  return failed ? 1 : 0;
}

function nodeCheck(): Check {
  const range = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines?.node ?? '*';
  const ok = semver.satisfies(process.versions.node, range);
  return { name: 'node', status: ok ? 'ok' : 'fail', detail: `${process.version} (needs ${range})`, fix: ok ? undefined : `install a Node version matching ${range}` };
}

function registryCheck(registry: RegistryFile): { check: Check; entries?: RegistryEntry[] } {
  if (!existsSync(registry.file)) return { check: { name: 'registry', status: 'fail', detail: `${registry.file} does not exist`, fix: 'create it ({"plugins": []}) or set PLINTH_REGISTRY' } };
  try {
    const entries = registry.read();
    const enabled = entries.filter(e => e.enabled !== false).length;
    return { entries, check: { name: 'registry', status: 'ok', detail: `${registry.file}: ${entries.length} plugins, ${enabled} enabled` } };
  } catch (err: any) {
    return { check: { name: 'registry', status: 'fail', detail: err.message, fix: 'fix the JSON; each entry needs "id" and "path"' } };
  }
}

/** Each manifest as the host would read it, its entry file, its config against its schema, and its dependencies. */
function manifestChecks(registry: RegistryFile, entries: RegistryEntry[] | undefined): Check[] {
  if (!entries) return [{ name: 'manifests', status: 'skip', detail: 'the registry could not be read' }];
  const enabledIds = new Set(entries.filter(e => e.enabled !== false).map(e => e.id));
  return entries.map(entry => {
    const name = `plugin ${entry.id}`;
    const dir = registry.resolvePath(entry);
    try {
      const m = readManifest(dir, entry.id);
      if (!existsSync(join(dir, m.main))) return { name, status: 'fail', detail: `main file ${m.main} is missing in ${dir}`, fix: 'fix "main" in plugin.json' };
      if (m.configSchema) {
        const validate = compileSchema(m.configSchema);
        if (!validate(structuredClone(entry.config ?? {}))) {
          return { name, status: 'fail', detail: `config: ${describeErrors('config', validate.errors).message}`, fix: `fix "config" of ${entry.id} in the registry` };
        }
      }
      if (entry.enabled === false) return { name, status: 'ok', detail: `${m.version}, disabled` };
      const missing = m.dependsOn.filter(d => !enabledIds.has(d));
      if (missing.length) return { name, status: 'fail', detail: `depends on ${missing.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not enabled`, fix: `plinth plugins enable ${missing[0]} (or disable ${entry.id})` };
      return { name, status: 'ok', detail: m.version };
    } catch (err: any) {
      return { name, status: 'fail', detail: err.message, fix: `fix ${join(dir, 'plugin.json')}, or remove the entry` };
    }
  });
}

async function portCheck(settings: KernelSettings, target: ServerTarget): Promise<{ up: boolean; check: Check }> {
  const health = await serverAnswers(target.url);
  if (health.up) return { up: true, check: { name: 'server', status: 'ok', detail: `a Plinth server (${health.version}) answers at ${target.url}` } };
  if (settings.port === 0) return { up: false, check: { name: 'server', status: 'ok', detail: 'PLINTH_PORT=0: a free port is picked at start' } };
  const free = await new Promise<NodeJS.ErrnoException | undefined>(resolve => {
    const srv = createServer();
    srv.once('error', err => resolve(err));
    srv.listen(settings.port, settings.host, () => srv.close(() => resolve(undefined)));
  });
  if (!free) return { up: false, check: { name: 'server', status: 'ok', detail: `not running; ${settings.host}:${settings.port} is free` } };
  return {
    up: false,
    check: free.code === 'EADDRINUSE'
      ? { name: 'server', status: 'fail', detail: `${settings.host}:${settings.port} is taken by something that is not a Plinth server`, fix: 'stop that program or set PLINTH_PORT' }
      : { name: 'server', status: 'fail', detail: `cannot listen on ${settings.host}:${settings.port}: ${free.code ?? free.message}`, fix: 'check PLINTH_HOST' },
  };
}

/** Opens the database read-only in spirit: nothing is created or migrated here. */
async function databaseCheck(settings: KernelSettings, serverUp: boolean): Promise<Check> {
  let db;
  try { db = databaseSettings(settings.dataDir, settings.databaseUrl); } catch (err: any) { return { name: 'database', status: 'fail', detail: err.message, fix: 'set PLINTH_DATABASE_URL to postgres://… or unset it for SQLite' }; }
  if (db.dialect === 'sqlite' && !existsSync(db.location)) return { name: 'database', status: 'ok', detail: `SQLite ${db.location} will be created at the first start` };
  const where = db.dialect === 'sqlite' ? `SQLite ${db.location}` : `PostgreSQL ${redact(db.location)}`;
  let ds;
  try {
    ds = await openDataSource(db, 'doctor');
  } catch (err: any) {
    return { name: 'database', status: 'fail', detail: `${where}: ${err.message}`, fix: db.dialect === 'postgres' ? 'check PLINTH_DATABASE_URL, credentials, and that PostgreSQL is up' : 'check the file and PLINTH_DATA_DIR permissions' };
  }
  try {
    let applied: string[] = [];
    try {
      applied = (await ds.query(`SELECT name FROM plinth_migrations WHERE namespace = ${db.dialect === 'postgres' ? '$1' : '?'}`, ['kernel'])).map((r: any) => r.name);
    } catch { /* no migrations table yet */ }
    const pending = kernelMigrations.map(m => m.name).filter(n => !applied.includes(n));
    const namespaces = await ds.query('SELECT namespace, COUNT(*) AS n FROM plinth_migrations GROUP BY namespace').catch(() => []);
    const detail = `${where}: reachable; kernel migrations ${applied.length}/${kernelMigrations.length} applied; ${namespaces.length} namespaces migrated`;
    if (pending.length) return { name: 'database', status: serverUp ? 'fail' : 'warn', detail: `${detail}; pending: ${pending.join(', ')}`, fix: serverUp ? 'restart the server so it migrates' : 'the next `plinth start` applies them' };
    return { name: 'database', status: 'ok', detail };
  } finally {
    await ds.destroy();
  }
}

function redact(url: string): string {
  try { const u = new URL(url); if (u.password) u.password = '***'; return u.toString(); } catch { return 'postgres://…'; }
}
