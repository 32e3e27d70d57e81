import { AuthStore } from '../core/auth/auth-store';
import type { UserRecord } from '../sdk';
import type { KernelSettings } from '../core/process-settings';
import { databaseSettings, openDataSource, pluginDatabase, runMigrations } from '../core/storage/database';
import { kernelMigrations } from '../core/storage/kernel-schema';
import { commandContext, type CommandContext } from './command';
import { CliFailure, UsageError } from './output';
import { ServerClient, serverAnswers } from './server-client';

export const USER_USAGE = `usage: plinth user add --email <email> [--role user|admin] [--name <name>]
                       [--password <pw> | --password-stdin]
       plinth user list
       plinth user set <email or id> [--role user|admin] [--name <name>] [--disable | --enable]
       plinth user delete <email or id>

A disabled or deleted user's tokens stop working on every kernel within a second; what a deleted
user owned in plugins is kept (admins still see it). The last enabled admin cannot be removed.

Through the running server's API when one answers (admin token needed), else straight into the
database of PLINTH_DATA_DIR / PLINTH_DATABASE_URL.
`;

export const TOKEN_USAGE = `usage: plinth token create --user <email or id> [--name <name>] [--expires-days <n>] [--scope <scope>]…

Prints a new API token for that user (shown once; only its hash is stored). With --scope (repeatable,
e.g. --scope device) the token passes only the routes that declare one of its scopes.
`;

/** The kernel's own tables, opened the way the kernel opens them (migrations included), for offline commands. */
export async function withKernelAuth<T>(settings: KernelSettings, fn: (auth: AuthStore) => Promise<T>): Promise<T> {
  const db = databaseSettings(settings.dataDir, settings.databaseUrl);
  let ds;
  try {
    ds = await openDataSource(db, 'kernel');
  } catch (err: any) {
    throw new CliFailure(`cannot open the database (${db.dialect}): ${err.message}`, db.dialect === 'postgres' ? 'check PLINTH_DATABASE_URL and that PostgreSQL is up' : 'check PLINTH_DATA_DIR is writable', undefined, { cause: err });
  }
  try {
    const kernelDb = pluginDatabase(ds, db.dialect, 'kernel');
    await runMigrations(kernelDb, 'kernel', kernelMigrations);
    return await fn(new AuthStore(kernelDb));
  } finally {
    await ds.destroy();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Offline errors come as PlinthErrors from the auth store (a duplicate email is a 409). */
function asFailure(err: any): never {
  if (err?.name === 'PlinthError') throw new CliFailure(err.message, undefined, err.toJSON?.().error);
  throw err;
}

export async function userCommand(args: string[]): Promise<number> {
  const ctx = commandContext(args, {
    email: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' },
    password: { type: 'string' }, 'password-stdin': { type: 'boolean' }, disable: { type: 'boolean' }, enable: { type: 'boolean' },
  }, USER_USAGE);
  const { out, values, positionals } = ctx;
  if (values.help) { out.line(USER_USAGE); return 0; }
  const action = positionals[0];
  if (action === 'list' && positionals.length === 1) return listUsers(ctx);
  if ((action === 'set' || action === 'delete') && positionals.length === 2) return changeUser(ctx, action, positionals[1]);
  if (positionals.length !== 1 || action !== 'add') throw new UsageError(positionals.length ? `unknown action "${positionals.join(' ')}"` : 'missing action', USER_USAGE);
  values.role ??= 'user';
  if (!values.email || !/^[^@\s]+@[^@\s]+$/.test(values.email)) throw new UsageError('--email <address> is required', USER_USAGE);
  if (values.role !== 'user' && values.role !== 'admin') throw new UsageError(`--role must be user or admin, got "${values.role}"`, USER_USAGE);
  if (values.password !== undefined && values['password-stdin']) throw new UsageError('give --password or --password-stdin, not both', USER_USAGE);
  const password = values['password-stdin'] ? await readStdin() : values.password;
  if (password !== undefined && password.length < 8) throw new CliFailure('the password is shorter than 8 characters');

  const input = { email: values.email as string, role: values.role as 'user' | 'admin', name: values.name as string | undefined, password };
  const { value: user, via } = await onServerOrDatabase<{ id: string; email: string; role: string }>(ctx,
    async client => (await client.request('POST', '/api/users', stripUndefined(input))).user,
    auth => auth.createUser(input));
  out.result({ ok: true, user, via });
  out.ok(`created ${user.role} ${user.email} (${user.id}) ${out.paint('dim', `via ${via}`)}`);
  if (!password) out.hint('no password: this user signs in with a token (`plinth token create --user ' + user.email + '`)');
  return 0;
}

async function listUsers(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  const { value: users, via } = await onServerOrDatabase<UserRecord[]>(ctx,
    async client => (await client.request<{ items: UserRecord[] }>('GET', '/api/users')).items,
    auth => auth.listUsers());
  out.result({ ok: true, items: users, via });
  for (const u of users) out.line(`${u.id}  ${u.role.padEnd(5)}  ${u.disabled ? out.paint('dim', 'disabled') : 'enabled '}  ${u.email}${u.name ? ` (${u.name})` : ''}`);
  return 0;
}

async function changeUser(ctx: CommandContext, action: 'set' | 'delete', who: string): Promise<number> {
  const { out, values } = ctx;
  if (values.disable && values.enable) throw new UsageError('give --disable or --enable, not both', USER_USAGE);
  if (values.role !== undefined && values.role !== 'user' && values.role !== 'admin') throw new UsageError(`--role must be user or admin, got "${values.role}"`, USER_USAGE);
  const patch = stripUndefined({
    role: values.role as 'user' | 'admin' | undefined, name: values.name as string | undefined,
    disabled: values.disable ? true : values.enable ? false : undefined,
  });
  if (action === 'set' && !Object.keys(patch).length) throw new UsageError('nothing to change: give --role, --name, --disable or --enable', USER_USAGE);
  const match = (u: { id: string; email: string }) => u.id === who || u.email === who.toLowerCase();
  const notFound = () => new CliFailure(`no user "${who}"`, 'see `plinth user list`');
  const { value: user, via } = await onServerOrDatabase<UserRecord>(ctx,
    async client => {
      const user = (await client.request<{ items: UserRecord[] }>('GET', '/api/users')).items.find(match);
      if (!user) throw notFound();
      const path = `/api/users/${encodeURIComponent(user.id)}`;
      if (action === 'delete') { await client.request('DELETE', path); return user; }
      return (await client.request<{ user: UserRecord }>('PATCH', path, patch)).user;
    },
    async auth => {
      const user = (await auth.listUsers()).find(match);
      if (!user) throw notFound();
      if (action === 'delete') { await auth.deleteUser(user.id); return user; }
      return auth.updateUser(user.id, patch);
    });
  out.result({ ok: true, action, user, via });
  out.ok(`${action === 'delete' ? 'deleted' : 'updated'} ${user.email}: ${action === 'delete' ? 'gone' : `${user.role}, ${user.disabled ? 'disabled' : 'enabled'}`} ${out.paint('dim', `via ${via}`)}`);
  return 0;
}

export async function tokenCommand(args: string[]): Promise<number> {
  const ctx = commandContext(args, { user: { type: 'string' }, name: { type: 'string', default: 'cli' }, 'expires-days': { type: 'string' }, scope: { type: 'string', multiple: true } }, TOKEN_USAGE);
  const { out, values, positionals } = ctx;
  if (values.help) { out.line(TOKEN_USAGE); return 0; }
  if (positionals.length !== 1 || positionals[0] !== 'create') throw new UsageError(positionals.length ? `unknown action "${positionals.join(' ')}"` : 'missing action', TOKEN_USAGE);
  if (!values.user) throw new UsageError('--user <email or id> is required', TOKEN_USAGE);
  const days = values['expires-days'] === undefined ? undefined : Number(values['expires-days']);
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650)) throw new UsageError('--expires-days must be a whole number from 1 to 3650', TOKEN_USAGE);
  const scopes = values.scope as string[] | undefined;
  const who = String(values.user).toLowerCase();
  const match = (u: { id: string; email: string }) => u.id === values.user || u.email === who;
  const notFound = () => new CliFailure(`no user "${values.user}"`, 'create one with `plinth user add --email …`');

  const { value, via } = await onServerOrDatabase(ctx,
    async client => {
      const user = (await client.request<{ items: any[] }>('GET', '/api/users')).items.find(match);
      if (!user) throw notFound();
      const t = await client.request('POST', `/api/users/${encodeURIComponent(user.id)}/tokens`, stripUndefined({ name: values.name, expiresInDays: days, scopes }));
      return { user, ...t };
    },
    async auth => {
      const user = (await auth.listUsers()).find(match);
      if (!user) throw notFound();
      const t = await auth.createToken(user.id, { name: values.name, scopes, expiresInMs: days ? days * 86_400_000 : undefined });
      return { user, ...t };
    });
  const { user, id, token } = value;
  out.result({ ok: true, user: { id: user.id, email: user.email }, tokenId: id, token, via });
  if (!out.json) {
    out.ok(`token ${id} for ${user.email} ${out.paint('dim', `via ${via}`)}`);
    // The token alone on its own line, so that `plinth token create … | tail -1` captures it.
    out.line(token);
  }
  return 0;
}

async function onServerOrDatabase<T>(ctx: CommandContext, viaServer: (c: ServerClient) => Promise<T>, viaDatabase: (a: AuthStore) => Promise<T>): Promise<{ value: T; via: string }> {
  const target = ctx.target();
  if ((await serverAnswers(target.url)).up) return { value: await viaServer(new ServerClient(target)), via: target.url };
  return { value: await withKernelAuth(ctx.settings(), auth => viaDatabase(auth).catch(asFailure)), via: 'database' };
}

function stripUndefined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
