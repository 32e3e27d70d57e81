import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type ServerProcess } from '../helpers/server';
import { closedPortUrl, plinth } from './run-cli';

/** No plugin but the account API, which the CLI talks to while a server runs. */
function emptyInstall() {
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-users-'));
  const registry = join(dataDir, 'plugin-registry.json');
  writeFileSync(registry, JSON.stringify({ plugins: [{ id: 'accounts', path: join(__dirname, '..', '..', 'plugins', 'accounts') }] }));
  return { dataDir, registry };
}

describe('plinth user add / token create', () => {
  const servers: ServerProcess[] = [];
  after(() => { for (const s of servers) s.kill('SIGKILL'); });

  test('with no server they write the database directly, and the server then honours the user and token', async () => {
    const { dataDir, registry } = emptyInstall();
    const env = { PLINTH_URL: await closedPortUrl(), PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry };
    const add = await plinth(['user', 'add', '--email', 'Ada@Example.test', '--role', 'admin', '--password-stdin', '--json'], { env, input: 'correct horse battery\n' });
    assert.equal(add.status, 0, add.stdout + add.stderr);
    assert.equal(add.json().via, 'database');
    assert.equal(add.json().user.email, 'ada@example.test');
    assert.equal(add.json().user.role, 'admin');

    const dup = await plinth(['user', 'add', '--email', 'ada@example.test'], { env });
    assert.equal(dup.status, 1);
    assert.match(dup.stderr, /already exists/);

    const tok = await plinth(['token', 'create', '--user', 'ada@example.test', '--name', 'ci'], { env });
    assert.equal(tok.status, 0, tok.stderr);
    const token = tok.stdout.trim().split('\n').at(-1)!;
    assert.match(token, /^\S{20,}$/);

    const s = await startServer({ PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry });
    servers.push(s);
    const me = await fetch(`${s.baseUrl}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.status, 200);
    assert.equal((await me.json() as any).user.email, 'ada@example.test');
    const scopedTok = await plinth(['token', 'create', '--user', 'ada@example.test', '--scope', 'device', '--json'], { env });
    assert.equal(scopedTok.json()?.via, 'database', scopedTok.stdout + scopedTok.stderr);
    assert.equal((await fetch(`${s.baseUrl}/api/tokens`, { headers: { authorization: `Bearer ${scopedTok.json().token}` } })).status, 403, 'a scoped token made offline is scoped too');
    const login = await fetch(`${s.baseUrl}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ada@example.test', password: 'correct horse battery' }) });
    assert.equal(login.status, 200, 'the password read from stdin (without its newline) signs in');
    s.kill('SIGTERM');
    await s.exited;
  });

  test('with a server running they go through its API with the admin token', async () => {
    const { dataDir, registry } = emptyInstall();
    const s = await startServer({ PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry });
    servers.push(s);
    const env = { PLINTH_URL: s.baseUrl, PLINTH_ADMIN_TOKEN: s.adminToken, PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry };
    const add = await plinth(['user', 'add', '--email', 'lin@example.test', '--password', 'long enough pw', '--json'], { env });
    assert.equal(add.status, 0, add.stdout);
    assert.equal(add.json().via, s.baseUrl);
    const tok = await plinth(['token', 'create', '--user', add.json().user.id, '--expires-days', '2', '--json'], { env });
    assert.equal(tok.status, 0, tok.stdout);
    const me = await fetch(`${s.baseUrl}/auth/me`, { headers: { authorization: `Bearer ${tok.json().token}` } });
    assert.equal((await me.json() as any).user.email, 'lin@example.test');

    const scoped = await plinth(['token', 'create', '--user', 'lin@example.test', '--scope', 'device', '--json'], { env });
    assert.equal(scoped.status, 0, scoped.stdout);
    const refused = await fetch(`${s.baseUrl}/api/tokens`, { headers: { authorization: `Bearer ${scoped.json().token}` } });
    assert.equal(refused.status, 403, 'a device-scoped token is refused where no route declares its scope');
    assert.equal((await refused.json() as any).error.code, 'PLINTH_ERR_TOKEN_SCOPE');
    const badScope = await plinth(['token', 'create', '--user', 'lin@example.test', '--scope', 'Not A Scope'], { env });
    assert.equal(badScope.status, 1);
    assert.match(badScope.stderr, /scopes/);

    const denied = await plinth(['user', 'add', '--email', 'x@example.test'], { env: { ...env, PLINTH_ADMIN_TOKEN: tok.json().token } });
    assert.equal(denied.status, 1, 'a non-admin token cannot create users');
    assert.match(denied.stderr, /HTTP 403/);
    const ghost = await plinth(['token', 'create', '--user', 'ghost@example.test'], { env });
    assert.equal(ghost.status, 1);
    assert.match(ghost.stderr, /no user "ghost@example.test"/);
    const short = await plinth(['user', 'add', '--email', 'y@example.test', '--password', 'short'], { env });
    assert.equal(short.status, 1);
    for (const args of [['user', 'add'], ['user', 'add', '--email', 'z@e.t', '--role', 'root'], ['user', 'remove'], ['token', 'create'], ['token', 'create', '--user', 'a', '--expires-days', 'soon'], ['user', 'add', '--email', 'z@e.t', '--password', 'xxxxxxxx', '--password-stdin']]) {
      const r = await plinth(args, { env });
      assert.equal(r.status, 2, args.join(' '));
    }
    const users = await (await fetch(`${s.baseUrl}/api/users`, { headers: { authorization: `Bearer ${s.adminToken}` } })).json() as any;
    assert.deepEqual(users.items.map((u: any) => u.email).sort(), ['admin@localhost', 'lin@example.test'], 'refused commands created nobody');
  });

  test('user list / set / delete, offline and through the server; bad input changes nothing', async () => {
    const { dataDir, registry } = emptyInstall();
    const offline = { PLINTH_URL: await closedPortUrl(), PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry };
    assert.equal((await plinth(['user', 'add', '--email', 'eve@example.test', '--password', 'long enough pw'], { env: offline })).status, 0);
    const set = await plinth(['user', 'set', 'eve@example.test', '--disable', '--name', 'Eve', '--json'], { env: offline });
    assert.equal(set.status, 0, set.stdout + set.stderr);
    assert.equal(set.json().via, 'database');
    assert.equal(set.json().user.disabled, true);
    const none = await plinth(['user', 'set', 'eve@example.test'], { env: offline });
    assert.notEqual(none.status, 0);
    assert.match(none.stderr, /nothing to change/);
    const ghost = await plinth(['user', 'delete', 'ghost@example.test'], { env: offline });
    assert.equal(ghost.status, 1);
    assert.match(ghost.stderr, /no user "ghost@example.test"/);

    const s = await startServer({ PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry });
    servers.push(s);
    const env = { PLINTH_URL: s.baseUrl, PLINTH_ADMIN_TOKEN: s.adminToken, PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry };
    const login = () => fetch(`${s.baseUrl}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'eve@example.test', password: 'long enough pw' }) });
    assert.equal((await login()).status, 403, 'disabled offline, refused by the server');
    const list = await plinth(['user', 'list', '--json'], { env });
    assert.equal(list.status, 0, list.stdout);
    assert.equal(list.json().via, s.baseUrl);
    const eve = list.json().items.find((u: any) => u.email === 'eve@example.test');
    assert.deepEqual([eve.name, eve.disabled], ['Eve', true]);
    assert.equal((await plinth(['user', 'set', eve.id, '--enable', '--role', 'admin'], { env })).status, 0);
    assert.equal((await login()).status, 200);
    const me = await plinth(['user', 'list', '--json'], { env });
    const admin = me.json().items.find((u: any) => u.email === 'admin@localhost');
    const self = await plinth(['user', 'delete', admin.id], { env });
    assert.equal(self.status, 1, 'the admin token\'s own user is not deleted');
    assert.match(self.stderr, /cannot delete yourself/);
    const del = await plinth(['user', 'delete', 'eve@example.test', '--json'], { env });
    assert.equal(del.status, 0, del.stdout);
    assert.equal((await login()).status, 401);
    s.kill('SIGTERM');
    await s.exited;
  });
});
