/**
 * The package round trip, as a third party lives it: `npm pack` of this repository, installed into
 * an empty folder; `npx plinth plugin new acme --dir …`; `npm install && npm test` in the plugin's
 * folder; `npx plinth plugins add` into a deployment, grant, start, call its route and tool; an
 * edit served after a hot reload; a version asking for a new permission held back until granted.
 *
 * Slow (two npm installs): run by `npm run test:package` (and .ci/run), not by `npm test`.
 * Offline except for the npm registry. To stay within minutes, the installs run with
 * `--prefer-offline --ignore-scripts` and the two native modules (sqlite3, node-pty) get the
 * builds of this checkout's node_modules, copied in: the same pinned versions for the same Node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const NATIVE = ['sqlite3', 'node-pty'];

function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  const base = { ...process.env };
  // Else a `node --test` started inside reports to this test runner instead of printing.
  delete base.NODE_TEST_CONTEXT;
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 5 * 60_000, env: { ...base, PLINTH_LOG_STDOUT: '0', npm_config_update_notifier: 'false', ...env } });
}
function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
function npmInstall(dir: string, args: string[]): void {
  ok(sh('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', ...args], dir), `npm install in ${dir}`);
  for (const m of NATIVE) cpSync(join(ROOT, 'node_modules', m, 'build'), join(dir, 'node_modules', m, 'build'), { recursive: true });
}
async function until<T>(probe: () => Promise<T>, good: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await probe();
  while (!good(v) && Date.now() < end) { await new Promise(r => setTimeout(r, 200)); v = await probe(); }
  return v;
}

test('npm pack → install → plugin new → npm test → plugins add → grant → start → route, tool, hot reload → upgrade held back until granted', { timeout: 15 * 60_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'plinth-package-'));
  let server: ReturnType<typeof spawn> | undefined;
  let serverOutput = () => '';
  try {
    ok(sh('npm', ['pack', '--pack-destination', tmp], ROOT), 'npm pack');
    const tarball = join(tmp, readdirSync(tmp).find(f => f.endsWith('.tgz'))!);

    const app = join(tmp, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    npmInstall(app, [tarball]);
    assert.ok(existsSync(join(app, 'node_modules', 'plinth', 'dist', 'sdk', 'index.d.ts')), 'type declarations ship');
    assert.ok(!existsSync(join(app, 'node_modules', 'plinth', 'sdk')), 'the SDK ships compiled, not as sources');
    const npx = (args: string[], env: Record<string, string> = {}) => sh('npx', ['--no-install', 'plinth', ...args], app, env);
    assert.match(ok(npx(['doctor']), 'plinth doctor'), /plugin dashboard/);

    const acme = join(tmp, 'acme');
    ok(npx(['plugin', 'new', 'acme', '--dir', acme, '--plinth', `file:${tarball}`]), 'plugin new');
    for (const f of ['package.json', 'plugin.json', 'tsconfig.json', 'src/index.ts', 'test/acme.test.ts', 'README.md']) assert.ok(existsSync(join(acme, f)), f);
    npmInstall(acme, []);
    assert.match(ok(sh('npm', ['test'], acme), 'npm test in the plugin'), /pass 2\b/);
    // Its types check against the shipped declarations (plinth/sdk, plinth/testing).
    ok(sh(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], acme), 'tsc in the plugin');

    // The plugin asks for a host; the deployment adds it disabled, refuses to enable it ungranted.
    const manifestFile = join(acme, 'plugin.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    manifest.permissions = { network: ['api.acme.example'], secrets: [] };
    writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
    const data = join(tmp, 'data');
    const env = { PLINTH_DATA_DIR: data, PLINTH_PORT: '0' };
    const added = ok(npx(['plugins', 'add', acme], env), 'plugins add');
    assert.match(added, /permissions: network: api\.acme\.example/);
    assert.match(added, /tools: +acme\.echo/);
    const registryFile = join(data, 'plugin-registry.json');
    const registry = JSON.parse(readFileSync(registryFile, 'utf8'));
    const entry = registry.plugins.find((p: any) => p.id === 'acme');
    assert.equal(entry.enabled, false);
    assert.equal(entry.isolation, 'sandbox');
    assert.ok(existsSync(join(data, 'plugins-installed', 'acme', 'plugin.json')));
    assert.ok(!existsSync(join(app, 'node_modules', 'plinth', 'plugins', 'acme')), 'never into the kernel package');
    const refused = npx(['plugins', 'enable', 'acme'], env);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr + refused.stdout, /api\.acme\.example/);
    ok(npx(['plugins', 'enable', 'acme', '--grant'], env), 'enable --grant');

    // `npx plinth start`, as the process itself (so that SIGTERM reaches the kernel).
    server = spawn(process.execPath, [join(app, 'node_modules', '.bin', 'plinth'), 'start'], { cwd: app, env: { ...process.env, NODE_TEST_CONTEXT: '', ...env, PLINTH_LOG_STDOUT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    server.stdout!.on('data', d => (out += d));
    server.stderr!.on('data', d => (out += d));
    serverOutput = () => out + (server!.exitCode !== null ? `\n(exited with ${server!.exitCode})` : '');
    const url = await until(async () => /listening on (http:\S+)/.exec(out)?.[1], v => !!v, 60_000);
    assert.ok(url, `the server started:\n${out}`);
    const token = readFileSync(join(data, 'admin-token'), 'utf8').trim();
    const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
      const send = () => fetch(url + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      // A pooled keep-alive connection the server closed while idle (during a slow CLI step) is retried once.
      const res = await send().catch(err => { if (err?.cause?.code !== 'UND_ERR_SOCKET' || server!.exitCode !== null) throw err; return send(); });
      return { status: res.status, body: await res.json() };
    };
    assert.deepEqual((await call('POST', '/api/acme/echo', { text: 'hi' })).body, { text: 'echo: hi' });
    assert.deepEqual((await call('POST', '/api/plugins/acme/execute/echo', { text: 'tool' })).body.result, { text: 'echo: tool' });
    assert.equal((await call('GET', '/api/plugins/dashboard')).body.status, 'active', 'first-party plugins ship and serve');

    // An edit of the installed plugin is served after a hot reload.
    const echoFile = join(data, 'plugins-installed', 'acme', 'src', 'echo.ts');
    writeFileSync(echoFile, readFileSync(echoFile, 'utf8').replace('config.prefix + input.text', 'config.prefix + input.text.toUpperCase()'));
    const reloaded = await until(() => call('POST', '/api/acme/echo', { text: 'hi' }), r => r.body.text === 'echo: HI');
    assert.deepEqual(reloaded.body, { text: 'echo: HI' });

    // 0.2.0 asks for a secret too: added, held back (0.1.0 keeps serving) until granted.
    manifest.version = '0.2.0';
    manifest.permissions.secrets = ['ACME_KEY'];
    writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
    const upgrade = JSON.parse(ok(npx(['plugins', 'add', acme, '--json'], { ...env, PLINTH_URL: url }), 'plugins add 0.2.0'));
    assert.equal(upgrade.previousVersion, '0.1.0');
    assert.equal(upgrade.heldBack, true);
    assert.deepEqual(upgrade.ungranted, { secrets: ['ACME_KEY'] });
    assert.equal((await call('GET', '/api/plugins/acme')).body.version, '0.1.0');
    assert.equal((await call('POST', '/api/acme/echo', { text: 'hi' })).status, 200);
    ok(npx(['plugins', 'enable', 'acme', '--grant'], { ...env, PLINTH_URL: url }), 'grant 0.2.0');
    const after = (await call('GET', '/api/plugins/acme')).body;
    assert.equal(after.version, '0.2.0');
    assert.equal(after.error, null);
    assert.deepEqual((await call('POST', '/api/acme/echo', { text: 'hi' })).body, { text: 'echo: hi' });
  } catch (err) {
    if (serverOutput()) console.error(`server output:\n${serverOutput().slice(-4000)}`);
    throw err;
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise(r => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(tmp, { recursive: true, force: true });
  }
});
