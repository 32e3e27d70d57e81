import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type ServerProcess } from '../helpers/server';
import { closedPortUrl, plinth } from './run-cli';

const ROOT = join(__dirname, '..', '..');
const HELLO = join(ROOT, 'examples', 'hello');
const AGENTS = join(ROOT, 'plugins', 'agents');

/** Speaks just enough of the OpenAI wire format for a reachability probe: GET /v1/models with a bearer key. */
let fakeOpenAi: Server;
let fakeUrl: string;
const seen: string[] = [];
before(async () => {
  fakeOpenAi = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    if (req.headers.authorization !== 'Bearer sk-good') { res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"bad key"}}'); return; }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[{"id":"m1","object":"model"}]}');
  });
  await new Promise<void>(r => fakeOpenAi.listen(0, '127.0.0.1', r));
  fakeUrl = `http://127.0.0.1:${(fakeOpenAi.address() as AddressInfo).port}/v1`;
});
after(() => new Promise(r => fakeOpenAi.close(r)));

function install(plugins: unknown[]) {
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-doctor-'));
  const registry = join(dataDir, 'plugin-registry.json');
  writeFileSync(registry, JSON.stringify({ plugins }, null, 2));
  return { dataDir, registry };
}

const byName = (checks: any[], name: string) => checks.find(c => c.name === name);

describe('plinth doctor', () => {
  const servers: ServerProcess[] = [];
  after(() => { for (const s of servers) s.kill('SIGKILL'); });

  test('finds every problem, says what to fix for each, and exits 1', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'plinth-broken-'));
    writeFileSync(join(broken, 'plugin.json'), JSON.stringify({ id: 'broken', version: 'one', kernel: '^1.0.0', main: 'src/index.ts' }));
    const needy = mkdtempSync(join(tmpdir(), 'plinth-needy-'));
    mkdirSync(join(needy, 'src'));
    writeFileSync(join(needy, 'src', 'index.ts'), 'export default {};');
    writeFileSync(join(needy, 'plugin.json'), JSON.stringify({ id: 'needy', version: '1.0.0', kernel: '^1.0.0', main: 'src/index.ts', dependsOn: ['channels'] }));
    const { dataDir, registry } = install([
      { id: 'hello', path: HELLO, config: { greeting: '' } },
      { id: 'broken', path: broken },
      { id: 'needy', path: needy },
      { id: 'agents', path: AGENTS, config: { openai: { baseUrl: fakeUrl, apiKey: 'sk-good' }, anthropic: { baseUrl: await closedPortUrl() } } },
    ]);
    // A port held by something that is not Plinth.
    const squatter = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>(r => squatter.listen(0, '127.0.0.1', r));
    const port = String((squatter.address() as AddressInfo).port);
    try {
      const r = await plinth(['doctor', '--json'], { env: { PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry, PLINTH_PORT: port, PLINTH_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing', PLINTH_SANDBOX_BWRAP: '/nonexistent/bwrap' } });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      const { ok, checks, summary } = r.json();
      assert.equal(ok, false);
      assert.equal(byName(checks, 'node').status, 'ok');
      assert.equal(byName(checks, 'registry').status, 'ok');
      assert.match(byName(checks, 'plugin hello').detail, /config\/greeting/);
      assert.match(byName(checks, 'plugin broken').detail, /not a semver version/);
      assert.match(byName(checks, 'plugin needy').detail, /depends on channels/);
      assert.equal(byName(checks, 'plugin needy').fix, 'plinth plugins enable channels (or disable needy)');
      assert.equal(byName(checks, 'plugin agents').status, 'ok');
      assert.match(byName(checks, 'server').detail, /taken by something that is not a Plinth server/);
      assert.match(byName(checks, 'database').detail, /PostgreSQL postgres:\/\/postgres@127\.0\.0\.1:1\/nothing/);
      assert.match(byName(checks, 'database').fix, /PLINTH_DATABASE_URL/);
      assert.equal(byName(checks, 'provider openai').status, 'ok');
      assert.match(byName(checks, 'provider anthropic').detail, /unreachable: ECONNREFUSED/);
      assert.equal(byName(checks, 'sandbox').status, 'warn');
      assert.match(byName(checks, 'sandbox').detail, /bubblewrap not found at "\/nonexistent\/bwrap"/);
      assert.match(byName(checks, 'sandbox').fix, /apt-get install bubblewrap socat ripgrep/);
      assert.equal(summary.failed, 6);
      for (const c of checks.filter((c: any) => c.status === 'fail')) assert.ok(c.fix, `${c.name} says what to fix`);
      assert.ok(seen.includes('GET /v1/models Bearer sk-good'), 'the configured key was used for the probe');

      const human = await plinth(['doctor'], { env: { PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry, PLINTH_PORT: port } });
      assert.equal(human.status, 1);
      assert.match(human.stdout, /✗ plugin broken/);
      assert.match(human.stdout, /→ fix /);
      assert.match(human.stdout, /problems to fix/);
    } finally {
      await new Promise(r => squatter.close(r));
    }
  });

  test('a healthy install with its server up passes (a refused provider key is a warning)', async () => {
    const { dataDir, registry } = install([{ id: 'hello', path: HELLO }, { id: 'agents', path: AGENTS, config: { openai: { baseUrl: fakeUrl } } }]);
    const s = await startServer({ PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry });
    servers.push(s);
    const r = await plinth(['doctor', '--json'], { env: { PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry, PLINTH_URL: s.baseUrl, OPENAI_API_KEY: 'sk-wrong' } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const { checks } = r.json();
    assert.match(byName(checks, 'server').detail, /a Plinth server \(1\.\d+\.\d+\) answers/);
    assert.match(byName(checks, 'database').detail, /kernel migrations (\d+)\/\1 applied/);
    assert.equal(byName(checks, 'sandbox').status, 'ok');
    assert.match(byName(checks, 'sandbox').detail, /bubblewrap/);
    assert.equal(byName(checks, 'provider openai').status, 'warn');
    assert.match(byName(checks, 'provider openai').detail, /refused the key \(HTTP 401\)/);
    assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
  });

  test('plugins contribute checks: run with their config (defaults applied) and granted secrets only; a throw is that check\'s failure; a disabled plugin\'s checks do not run', async () => {
    const plugin = (id: string) => {
      const dir = mkdtempSync(join(tmpdir(), `plinth-${id}-`));
      mkdirSync(join(dir, 'src'));
      writeFileSync(join(dir, 'src', 'index.ts'), 'export default {};');
      writeFileSync(join(dir, 'src', 'checks.ts'), `export default {
  async seen({ config, secrets }) { return { name: '${id} seen', status: 'ok', detail: JSON.stringify({ level: config.level, secrets: Object.keys(secrets), granted: secrets.GRANTED_KEY }) }; },
  async broken() { throw new Error('${id} probe exploded'); },
};`);
      writeFileSync(join(dir, 'plugin.json'), JSON.stringify({
        id, version: '1.0.0', kernel: '^1.0.0', main: 'src/index.ts',
        configSchema: { type: 'object', properties: { level: { type: 'integer', default: 7 } } },
        permissions: { secrets: ['GRANTED_KEY'] }, contributes: { checks: 'src/checks.ts' },
      }));
      return dir;
    };
    const { dataDir, registry } = install([{ id: 'probe', path: plugin('probe') }, { id: 'idle', path: plugin('idle'), enabled: false }]);
    const r = await plinth(['doctor', '--json'], { env: { PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry, PLINTH_PORT: '0', GRANTED_KEY: 'g1', OTHER_KEY: 'o1' } });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const { checks } = r.json();
    assert.deepEqual(JSON.parse(byName(checks, 'probe seen').detail), { level: 7, secrets: ['GRANTED_KEY'], granted: 'g1' });
    assert.deepEqual(byName(checks, 'broken'), { name: 'broken', status: 'fail', detail: 'probe probe exploded' });
    assert.equal(byName(checks, 'idle seen'), undefined, 'a disabled plugin contributes no check');
    assert.equal(checks.filter((c: any) => c.status === 'fail').length, 1);
  });

  test('a missing or unreadable registry is reported, not thrown', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'plinth-doctor-'));
    const missing = await plinth(['doctor', '--json'], { env: { PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: join(dataDir, 'none.json'), PLINTH_PORT: '0' } });
    assert.equal(missing.status, 1);
    assert.match(byName(missing.json().checks, 'registry').detail, /does not exist/);
    assert.equal(byName(missing.json().checks, 'manifests').status, 'skip');
    writeFileSync(join(dataDir, 'bad.json'), '{ nope');
    const bad = await plinth(['doctor', '--json'], { env: { PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: join(dataDir, 'bad.json'), PLINTH_PORT: '0' } });
    assert.match(byName(bad.json().checks, 'registry').detail, /not valid JSON/);
    assert.equal((await plinth(['doctor', 'now'])).status, 2);
  });
});
