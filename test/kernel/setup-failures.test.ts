import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type ServerProcess } from '../helpers/server';
import { tempDir, writePlugin } from '../helpers/plugins';

/** A plugin whose setup takes `ms` before it registers its route. */
const slowPlugin = (id: string, ms: number) => ({
  id,
  code: `import { definePlugin } from 'plinth/sdk';
export default definePlugin({ async setup({ http }) { await new Promise(r => setTimeout(r, ${ms})); http.get('/up', { auth: 'public' }, () => ({ up: true })); } });`,
});

function install(pluginDirs: string[], kernelJson?: Record<string, unknown>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-setup-'));
  const registry = join(dataDir, 'plugin-registry.json');
  writeFileSync(registry, JSON.stringify({ plugins: pluginDirs.map(path => ({ id: path.split('/').pop(), path })) }));
  if (kernelJson) writeFileSync(join(dataDir, 'kernel.json'), JSON.stringify(kernelJson));
  return { PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry };
}

describe('plugin setup: a timeout that is a setting, and failures logged with their stack', () => {
  const servers: ServerProcess[] = [];
  after(() => { for (const s of servers) s.kill('SIGKILL'); });
  const start = async (env: Record<string, string>) => { const s = await startServer(env); servers.push(s); return s; };
  const get = async (s: ServerProcess, path: string) => (await fetch(s.baseUrl + path, { headers: { authorization: `Bearer ${s.adminToken}` } })).json() as Promise<any>;

  test('PLINTH_SETUP_TIMEOUT_MS: a setup that outlasts it is `error`; a quicker one beside it is active', async () => {
    const dir = tempDir('setup-');
    const s = await start({ ...install([writePlugin(dir, slowPlugin('slow', 1500)), writePlugin(dir, slowPlugin('quick', 20))]), PLINTH_SETUP_TIMEOUT_MS: '300' });
    const slow = await get(s, '/api/plugins/slow');
    assert.equal(slow.status, 'error');
    assert.equal(slow.error.code, 'PLINTH_ERR_SETUP_TIMEOUT');
    assert.match(slow.error.message, /within 300 ms/);
    assert.equal((await get(s, '/api/plugins/quick')).status, 'active');
    assert.deepEqual(await (await fetch(s.baseUrl + '/api/quick/up')).json(), { up: true });
    assert.equal((await get(s, '/api/config')).kernel.setupTimeoutMs, 300);
  });

  test('setupTimeoutMs in kernel.json: the same slow setup within a longer timeout is active', async () => {
    const dir = tempDir('setup-');
    const s = await start(install([writePlugin(dir, slowPlugin('slow', 1500))], { setupTimeoutMs: 5000 }));
    assert.equal((await get(s, '/api/plugins/slow')).status, 'active');
    assert.deepEqual(await (await fetch(s.baseUrl + '/api/slow/up')).json(), { up: true });
    assert.equal((await get(s, '/api/config')).kernel.setupTimeoutMs, 5000);
  });

  test('a setup that throws is logged with the stack of the error it threw, not only the wrapper\'s', async () => {
    const dir = tempDir('setup-');
    const broken = writePlugin(dir, {
      id: 'broken',
      code: `import { definePlugin } from 'plinth/sdk';
import { connectToLedger } from './ledger';
export default definePlugin({ setup() { connectToLedger(); } });`,
      files: { 'src/ledger.ts': `export function connectToLedger(): never { throw new Error('ledger refused the password'); }\n` },
    });
    const s = await start(install([broken, writePlugin(dir, slowPlugin('fine', 0))]));
    const state = await get(s, '/api/plugins/broken');
    assert.equal(state.status, 'error');
    assert.equal(state.error.code, 'PLINTH_ERR_PLUGIN_SETUP');
    assert.equal((await get(s, '/api/plugins/fine')).status, 'active');
    const line = (await get(s, '/api/logs?plugin=broken&level=error')).items.find((l: any) => l.msg === 'plugin failed');
    assert.ok(line, 'the failure is logged');
    assert.equal(line.code, 'PLINTH_ERR_PLUGIN_SETUP');
    assert.match(line.stack, /caused by: Error: ledger refused the password/);
    assert.match(line.stack, /at connectToLedger \(.*broken[\\/]src[\\/]ledger\.ts:\d+/);
    assert.doesNotMatch(JSON.stringify(state), /ledger\.ts/, 'the stack stays in the log, not in the API answer');
  });

  test('an invalid PLINTH_SETUP_TIMEOUT_MS stops the start with a message saying so', async () => {
    await assert.rejects(startServer({ ...install([]), PLINTH_SETUP_TIMEOUT_MS: 'soon' }, 10_000), /PLINTH_SETUP_TIMEOUT_MS must be a positive integer/);
  });
});
