/**
 * Issue 12 §1, the process-wide policy: an error nothing caught, tied to a plugin (its timer, its
 * promise, its event handler), marks that plugin `error` with the reason — in GET /api/plugins,
 * a `plugin.failed` event and the log — and the kernel (and every other plugin) serves on.
 * Run against the real `plinth start` process, where an uncaught error used to end Node.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type ServerProcess } from '../../helpers/server';
import { tempDir, writePlugin } from '../../helpers/plugins';
import { waitFor } from '../helpers';
import { connectWs } from './ws-client';

/** Each route starts work that fails later, outside any request: the kind of fault nothing awaits. */
const FAULTY = `import { definePlugin } from 'plinth/sdk';
export default definePlugin({ setup({ http, timers, events, pluginId }) {
  http.post('/raw-timer', { auth: 'public' }, () => { setTimeout(() => { throw new Error('raw timer boom'); }, 10); return { ok: true }; });
  http.post('/rejection', { auth: 'public' }, () => { void new Promise((_, reject) => setTimeout(() => reject(new Error('rejected boom')), 10)); return { ok: true }; });
  http.post('/sdk-timer', { auth: 'public' }, () => { timers.setTimeout(() => { throw new Error('sdk timer boom'); }, 10); return { ok: true }; });
  events.subscribe(pluginId + '.poke', async () => { throw new Error('handler boom'); });
  http.post('/event', { auth: 'public' }, async () => { await events.publish(pluginId + '.poke', {}); return { ok: true }; });
  http.get('/ping', { auth: 'public' }, () => ({ pong: true }));
} });
`;
const CALM = `import { definePlugin } from 'plinth/sdk';
export default definePlugin({ setup({ http }) { http.get('/ping', { auth: 'public' }, () => ({ pong: true })); } });
`;
const CAUSES = [
  { id: 'raw-timer', route: 'raw-timer', reason: /uncaughtException: raw timer boom/ },
  { id: 'rejection', route: 'rejection', reason: /unhandledRejection: rejected boom/ },
  { id: 'sdk-timer', route: 'sdk-timer', reason: /timer: sdk timer boom/ },
  { id: 'event', route: 'event', reason: /event handler: handler boom/ },
];

describe('hostile user: faults tied to a plugin', () => {
  let srv: ServerProcess;
  let dataDir: string;
  let fixtures: string;
  const admin = () => ({ authorization: `Bearer ${srv.adminToken}` });
  const plugin = async (id: string) => ((await (await fetch(`${srv.baseUrl}/api/plugins`, { headers: admin() })).json()) as any).items.find((p: any) => p.id === id);

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'plinth-faults-'));
    fixtures = tempDir('faults-');
    const plugins = CAUSES.map(c => ({ id: `faulty-${c.id}`, path: writePlugin(fixtures, { id: `faulty-${c.id}`, code: FAULTY }), enabled: true, config: {} }));
    plugins.push({ id: 'calm', path: writePlugin(fixtures, { id: 'calm', code: CALM }), enabled: true, config: {} });
    const registry = join(dataDir, 'plugin-registry.json');
    writeFileSync(registry, JSON.stringify({ plugins }));
    srv = await startServer({ PLINTH_DATA_DIR: dataDir, PLINTH_REGISTRY: registry });
  });

  after(async () => {
    await srv?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(fixtures, { recursive: true, force: true });
  });

  for (const cause of CAUSES) {
    test(`a plugin whose ${cause.id} fails is marked error with the reason; the kernel and other plugins serve on`, async () => {
      const id = `faulty-${cause.id}`;
      const events = await connectWs(srv.baseUrl.replace('http', 'ws') + '/ws', admin());
      events.ws.send(JSON.stringify({ type: 'subscribe', topics: ['plugin.*'] }));
      await events.until(f => f.type === 'subscribed');
      assert.equal((await plugin(id)).status, 'active');

      assert.equal((await fetch(`${srv.baseUrl}/api/${id}/${cause.route}`, { method: 'POST' })).status, 200);
      const failed = await waitFor(async () => {
        const p = await plugin(id).catch(() => undefined);
        return p?.status === 'error' ? p : undefined;
      }, `${id} marked error\n${srv.output().slice(-1500)}`);
      assert.equal(failed.error.code, 'PLINTH_ERR_PLUGIN_FAULT');
      assert.match(failed.error.message, cause.reason);
      const event = await events.until(f => f.type === 'event' && f.event.topic === 'plugin.failed' && f.event.payload.id === id);
      assert.match(event.event.payload.error.message, cause.reason);
      events.ws.close();

      const logs = await (await fetch(`${srv.baseUrl}/api/logs?plugin=${id}&level=error`, { headers: admin() })).json() as any;
      assert.ok(logs.items.some((l: any) => /fault|failed/.test(l.msg)), JSON.stringify(logs.items).slice(0, 400));
      assert.equal((await fetch(`${srv.baseUrl}/api/health`)).status, 200);
      assert.equal((await fetch(`${srv.baseUrl}/api/calm/ping`)).status, 200);
      assert.equal((await plugin('calm')).status, 'active');
      // An admin's reload brings it back.
      assert.equal((await fetch(`${srv.baseUrl}/api/plugins/${id}/reload`, { method: 'POST', headers: admin() })).status, 200);
      assert.equal((await plugin(id)).status, 'active');
    });
  }
});
