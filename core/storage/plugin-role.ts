import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { PlinthError, type Migration, type PluginDatabase } from '../../sdk';
import { openDataSource, pluginDatabase, pluginView, runMigrations, tablePrefix, type DatabaseSettings } from './database';

/**
 * On PostgreSQL a sandboxed plugin's storage connects as a role of its own (LOGIN, nothing else),
 * whose search_path is a schema it owns. The kernel's tables and other plugins' tables belong to
 * the kernel's role and grant nothing to PUBLIC, and other sandboxed plugins' schemas are closed to
 * it, so a statement the SQL check (sql-guard.ts) lets through still cannot read them: the
 * database refuses. A SET ROLE would not do: the plugin's own SQL could RESET it.
 *
 * Roles are per cluster, so the name carries a hash of the database's name (two deployments on
 * one server do not share roles). The password is derived from the kernel's database URL, so
 * that every kernel of a cluster computes the same one and a restart does not lock the others out.
 * The kernel's role needs CREATEROLE (or to be a superuser).
 */
export function pluginRole(database: string, pluginId: string): { role: string; schema: string } {
  const id = tablePrefix(pluginId).slice(0, -1);
  const db = createHash('sha256').update(database).digest('hex').slice(0, 8);
  return { role: `plinth_${db}_${id}`.slice(0, 63), schema: `plugin_${id}`.slice(0, 63) };
}

async function ensureRole(settings: DatabaseSettings, pluginId: string): Promise<{ role: string; password: string }> {
  const admin = await openDataSource(settings, 'kernel');
  try {
    const [{ db }] = await admin.query('SELECT current_database() AS db');
    const { role, schema } = pluginRole(db, pluginId);
    const password = createHash('sha256').update(`${settings.location}\0${role}`).digest('hex');
    // Names are [a-z0-9_] (tablePrefix, a hex hash); the password is hex: nothing here needs escaping.
    await inTurn(admin, async () => {
      const exists = (await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).length > 0;
      await admin.query(`${exists ? 'ALTER' : 'CREATE'} ROLE "${role}" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '${password}'`);
      // Membership lets the kernel's role make the schema over to it (CREATE SCHEMA … AUTHORIZATION).
      await admin.query(`GRANT "${role}" TO CURRENT_USER`);
      await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}" AUTHORIZATION "${role}"`);
      await admin.query(`ALTER ROLE "${role}" IN DATABASE "${db}" SET search_path = "${schema}"`);
    });
    return { role, password };
  } catch (err) {
    if (/permission denied|must have|must be/i.test((err as Error).message)) {
      throw new PlinthError(503, 'PLINTH_ERR_SANDBOX_UNAVAILABLE', `a sandboxed plugin on PostgreSQL gets a role of its own, and the kernel's role may not create one (${(err as Error).message}); ALTER ROLE <the kernel's role> CREATEROLE`);
    }
    throw err;
  } finally {
    await admin.destroy();
  }
}

/** Kernels starting at once take turns (CREATE ROLE is not IF NOT EXISTS). */
async function inTurn(ds: DataSource, fn: () => Promise<void>): Promise<void> {
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    await qr.query(`SELECT pg_advisory_lock(hashtext('plinth_plugin_roles'))`);
    await fn();
  } finally {
    await qr.query(`SELECT pg_advisory_unlock(hashtext('plinth_plugin_roles'))`).catch(() => undefined);
    await qr.release();
  }
}

/** The sandboxed plugin's storage as its own role, its migrations applied (recorded in its own schema). */
export async function openAsPluginRole(settings: DatabaseSettings, pluginId: string, migrations: Migration[]): Promise<{ db: PluginDatabase; applied: string[]; close(): Promise<void> }> {
  const { role, password } = await ensureRole(settings, pluginId);
  const url = new URL(settings.location);
  url.username = role;
  url.password = password;
  const ds = await openDataSource({ dialect: 'postgres', location: url.toString() }, pluginId);
  try {
    const db = pluginDatabase(ds, 'postgres', pluginId);
    const applied = await runMigrations(db, pluginId, migrations);
    return { db: pluginView(db), applied, close: () => ds.destroy() };
  } catch (err) {
    await ds.destroy();
    throw err;
  }
}
