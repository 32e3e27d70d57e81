import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { definePlugin, SecretBox } from 'plinth/sdk';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { privateKeyToAccount } from 'viem/accounts';

const AGENTS = join(__dirname, '..', '..', 'agents');
const WALLET = join(__dirname, '..');
const dialects: Array<'sqlite' | 'postgres'> = process.env.PLINTH_TEST_POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];
const USDC = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';
const WEI = 1_500_000_000_000_000_000n; // 1.5 ETH
const USDC_RAW = 1_234_567n; // 1.234567 USDC

/**
 * A JSON-RPC 2.0 endpoint as a node answers it: hex quantities, 32-byte ABI words; anything it
 * does not expect is a JSON-RPC error, so a wrong request shape fails the test.
 */
function fakeNode(chainId: number) {
  const calls: Array<{ method: string; params: unknown[] }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', c => (body += c));
    req.on('end', () => {
      const msg = JSON.parse(body);
      calls.push({ method: msg.method, params: msg.params });
      const ok = (result: unknown) => ({ jsonrpc: '2.0', id: msg.id, result });
      const fail = (message: string) => ({ jsonrpc: '2.0', id: msg.id, error: { code: -32602, message } });
      let answer;
      const [a, b] = msg.params ?? [];
      if (msg.method === 'eth_chainId') answer = ok(`0x${chainId.toString(16)}`);
      else if (msg.method === 'eth_getBalance' && /^0x[0-9a-fA-F]{40}$/.test(a) && b === 'latest') answer = ok(`0x${WEI.toString(16)}`);
      else if (msg.method === 'eth_call' && a?.to?.toLowerCase() === USDC.toLowerCase() && /^0x70a08231000000000000000000000000[0-9a-f]{40}$/.test(a.data) && b === 'latest') {
        answer = ok(`0x${USDC_RAW.toString(16).padStart(64, '0')}`);
      } else answer = fail(`unexpected ${msg.method} ${JSON.stringify(msg.params)}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  return { server, calls };
}

const listen = (s: Server) => new Promise<number>(r => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
const files = (dir: string): string[] => readdirSync(dir).flatMap(n => {
  const p = join(dir, n);
  return statSync(p).isDirectory() ? files(p) : [p];
});

/** Reads the wallet plugin's table as stored, for the test to look for key material. */
const peek = {
  manifest: { id: 'peek', contributes: { routes: [] } },
  plugin: definePlugin({
    async setup({ http, storage }) {
      const db = await storage.open({ migrations: [] });
      http.get('/wallets', { auth: 'admin' }, async () => ({ items: await db.query('SELECT * FROM wallet_wallets') }));
    },
  }),
};

for (const database of dialects) {
  describe(`wallet (${database})`, () => {
    let k: TestKernel;
    let alice: { token: string; user: { id: string } };
    let bob: { token: string; user: { id: string } };
    const node = fakeNode(8453);
    const other = fakeNode(1);
    const seen: string[] = [];
    const get = async (path: string, token: string) => {
      const r = await k.request('GET', path, { token });
      seen.push(r.text);
      return r;
    };
    before(async () => {
      const [port, otherPort] = [await listen(node.server), await listen(other.server)];
      const closed = createServer();
      const deadPort = await listen(closed);
      await new Promise(r => closed.close(r));
      k = await createTestKernel({
        database, egressAllow: ['127.0.0.1'],
        plugins: [
          { path: AGENTS, config: { prices: { 'builtin/echo': { input: 1, output: 2 } } } },
          { path: WALLET, config: { rpcUrl: `http://127.0.0.1:${port}/rpc`, chainId: 8453, usdc: { 8453: USDC } } },
          peek,
        ],
      });
      Object.assign(k, { otherPort, deadPort });
      alice = await k.createUser();
      bob = await k.createUser();
    });
    after(async () => {
      await k.stop();
      node.server.close();
      other.server.close();
    });

    test('the address is made on first use, the same afterwards, one per user; the key is stored encrypted', async () => {
      const a1 = await get('/api/wallet/address', alice.token);
      assert.equal(a1.status, 200, a1.text);
      assert.match(a1.body.address, /^0x[0-9a-fA-F]{40}$/);
      assert.deepEqual(Object.keys(a1.body).sort(), ['address', 'createdAt']);
      assert.equal((await get('/api/wallet/address', alice.token)).body.address, a1.body.address);
      const b = await get('/api/wallet/address', bob.token);
      assert.notEqual(b.body.address, a1.body.address);

      const rows = (await k.request('GET', '/api/peek/wallets')).body.items;
      const row = rows.find((r: any) => r.owner === alice.user.id);
      assert.match(row.secret, /^v1\./);
      // The stored secret is the key of that address (decrypted with the plugin's key file)…
      const key = new SecretBox(join(k.dataDir, 'plugins', 'wallet', 'wallet.key')).decrypt(row.secret) as `0x${string}`;
      assert.equal(privateKeyToAccount(key).address, a1.body.address);
      // …and the key appears nowhere in plain text: rows, responses, logs, any file of the data dir.
      const hex = key.slice(2).toLowerCase();
      assert.ok(!JSON.stringify(rows).toLowerCase().includes(hex));
      const logs = await k.request('GET', '/api/logs?limit=2000&level=debug');
      assert.equal(logs.status, 200, logs.text);
      assert.ok(!logs.text.toLowerCase().includes(hex), 'not in the logs');
      if (database === 'sqlite') for (const f of files(k.dataDir)) assert.ok(!readFileSync(f).toString('latin1').toLowerCase().includes(hex), `not in ${f}`);
      (k as any).aliceKeyHex = hex;
    });

    test('balance: native and USDC over JSON-RPC in the node\'s wire format, credits from the spend ledger', async () => {
      const s = (await k.request('POST', '/api/sessions', { token: alice.token, body: { agent: 'assistant' } })).body.id;
      const turn = await k.request('POST', `/api/sessions/${s}/messages`, { token: alice.token, body: { message: 'spend a little' } });
      assert.equal(turn.status, 200, turn.text);
      node.calls.length = 0;
      const r = await get('/api/wallet/balance', alice.token);
      assert.equal(r.status, 200, r.text);
      const address = (await get('/api/wallet/address', alice.token)).body.address;
      assert.equal(r.body.address, address);
      assert.equal(r.body.chainId, 8453);
      assert.deepEqual(r.body.native, { symbol: 'ETH', wei: WEI.toString(), amount: '1.5' });
      assert.deepEqual(r.body.usdc, { contract: USDC, raw: USDC_RAW.toString(), amount: '1.234567' });
      assert.equal(r.body.credits.turns, 1);
      assert.ok(r.body.credits.spent > 0 && r.body.credits.currency === 'USD');
      assert.deepEqual(node.calls.map(c => c.method), ['eth_chainId', 'eth_getBalance', 'eth_call']);
      assert.equal((node.calls[1].params[0] as string).toLowerCase(), address.toLowerCase());
      assert.equal((node.calls[2].params[0] as any).data, `0x70a08231${address.slice(2).toLowerCase().padStart(64, '0')}`);
      // Bob has spent nothing.
      assert.deepEqual((await get('/api/wallet/balance', bob.token)).body.credits, { spent: 0, turns: 0, currency: 'USD' });
    });

    test('an unreachable endpoint is a clear 502; the key is still in no response or log', async () => {
      const configure = async (config: Record<string, unknown>) => {
        const put = await k.request('PUT', '/api/config', { body: { plugins: { wallet: config } } });
        assert.equal(put.status, 200, put.text);
      };
      await configure({ rpcUrl: `http://127.0.0.1:${(k as any).otherPort}/`, chainId: 8453 });
      const wrongChain = await get('/api/wallet/balance', alice.token);
      assert.equal(wrongChain.status, 502, wrongChain.text);
      assert.equal(wrongChain.body.error.code, 'PLINTH_ERR_WALLET_CHAIN');
      assert.match(wrongChain.body.error.message, /serves chain 1, the wallet is configured for chain 8453/);

      await configure({});
      const none = await get('/api/wallet/balance', alice.token);
      assert.equal(none.status, 503, none.text);
      assert.equal(none.body.error.code, 'PLINTH_ERR_WALLET_NOT_CONFIGURED');

      await configure({ rpcUrl: `http://127.0.0.1:${(k as any).deadPort}/`, chainId: 8453 });
      const r = await get('/api/wallet/balance', alice.token);
      assert.equal(r.status, 502, r.text);
      assert.equal(r.body.error.code, 'PLINTH_ERR_WALLET_RPC');
      assert.match(r.body.error.message, /JSON-RPC endpoint http:\/\/127\.0\.0\.1:\d+ failed on eth_chainId/);
      // The address does not depend on the endpoint: the same key after every reload.
      assert.equal((await get('/api/wallet/address', alice.token)).body.address, (await k.request('GET', '/api/peek/wallets')).body.items.find((w: any) => w.owner === alice.user.id).address);
      const hex = (k as any).aliceKeyHex as string;
      for (const text of seen) assert.ok(!text.toLowerCase().includes(hex));
      const logs = await k.request('GET', '/api/logs?limit=2000&level=debug');
      assert.ok(!logs.text.toLowerCase().includes(hex));
      const bad = await k.request('GET', '/api/wallet/balance?x=1', { token: alice.token });
      assert.equal(bad.status, 400);
      const anon = await k.request('GET', '/api/wallet/address', { token: null });
      assert.equal(anon.status, 401);
    });
  });
}
