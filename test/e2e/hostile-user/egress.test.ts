/**
 * Issue 12 §3: server-side requests on behalf of a user. `POST /api/a2a/hello` fetched any URL and
 * echoed the answer's `name`; its errors told an open port from a closed one. Every such request
 * now goes through the kernel's egress policy (core/egress/); an admin allowlist lets chosen
 * internal targets through.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestKernel, type TestKernel } from 'plinth/testing';
import { dialects, plugin } from '../helpers';

/** An internal service on loopback: an admin page with a field worth stealing, redirects, and a card. */
async function internalServer(): Promise<{ server: Server; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const json = (body: unknown) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(body)); };
    if (req.url === '/internal/admin') return json({ name: 'secret-admin-field' });
    if (req.url === '/.well-known/agent-card.json') return json({ name: 'Internal agent', supportedInterfaces: [] });
    if (req.url === '/reset') return req.socket.destroy();
    const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to');
    if (req.url?.startsWith('/redirect') && to) { res.writeHead(302, { location: to }); return res.end(); }
    res.writeHead(404).end();
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>(r => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise(r => s.close(r));
  return port;
}

const portless = (text: string, ...ports: number[]) => ports.reduce((t, p) => t.split(String(p)).join('<port>'), text);

for (const database of dialects) {
  describe(`egress policy for requests made for users (${database})`, () => {
    let open: Awaited<ReturnType<typeof internalServer>>;
    let other: Awaited<ReturnType<typeof internalServer>>;
    let closed: number;
    let strict: TestKernel;
    let allowing: TestKernel;
    let user: string;
    let userOfAllowing: string;
    before(async () => {
      open = await internalServer();
      other = await internalServer();
      closed = await closedPort();
      const egressHosts = { 'peer.example': ['127.0.0.1'], 'mixed.example': ['93.184.216.34', '127.0.0.1'] };
      strict = await createTestKernel({ database, egressHosts, plugins: [plugin('a2a', { sendRisk: 'safe' })] });
      // The admin lets exactly one internal service through (host:port), plus one name.
      allowing = await createTestKernel({ database, egressHosts, egressAllow: [`127.0.0.1:${open.port}`, 'peer.example'], plugins: [plugin('a2a')] });
      user = (await strict.createUser()).token;
      userOfAllowing = (await allowing.createUser()).token;
    });
    after(async () => {
      await strict?.stop();
      await allowing?.stop();
      open?.server.close();
      other?.server.close();
    });

    const hello = (k: TestKernel, token: string, cardUrl: string) => k.request('POST', '/api/a2a/hello', { token, body: { name: 'p', cardUrl } });

    test('the reproduction: an internal page is refused, and nothing reaches it', async () => {
      const r = await hello(strict, user, `http://127.0.0.1:${open.port}/internal/admin`);
      assert.equal(r.status, 403, r.text);
      assert.equal(r.body.error.code, 'PLINTH_ERR_EGRESS_REFUSED');
      assert.match(r.body.error.message, /refused by the egress policy: 127\.0\.0\.1 is a loopback address/);
      assert.ok(!r.text.includes('secret-admin-field'));
      assert.deepEqual(open.hits, [], 'the policy refused before connecting');
    });

    test('an open and a closed port answer the same error body', async () => {
      const a = await hello(strict, user, `http://127.0.0.1:${open.port}/x`);
      const b = await hello(strict, user, `http://127.0.0.1:${closed}/x`);
      assert.equal(a.status, b.status);
      assert.equal(portless(a.text, open.port), portless(b.text, closed));
      // Allowed targets: a closed port, a reset connection and a non-HTTP answer all read "could not reach".
      const allowAll = await createTestKernel({ database: 'sqlite', egressAllow: ['127.0.0.1'], plugins: [plugin('a2a')] });
      try {
        const token = (await allowAll.createUser()).token;
        const shut = await hello(allowAll, token, `http://127.0.0.1:${closed}/x`);
        const reset = await hello(allowAll, token, `http://127.0.0.1:${open.port}/reset`);
        assert.equal(shut.status, 502, shut.text);
        assert.equal(shut.body.error.code, 'PLINTH_ERR_EGRESS_UNREACHABLE');
        assert.equal(portless(shut.text, closed), portless(reset.text, open.port));
        assert.match(shut.body.error.message, /^could not reach http:\/\/127\.0\.0\.1:\d+$/);
      } finally {
        await allowAll.stop();
      }
    });

    test('names are checked after DNS: localhost, a public-looking name on 127.0.0.1, a name with one private answer', async () => {
      const seen = open.hits.length;
      for (const host of ['localhost', 'peer.example', 'mixed.example']) {
        const r = await hello(strict, user, `http://${host}:${open.port}/.well-known/agent-card.json`);
        assert.equal(r.status, 403, `${host}: ${r.text}`);
        assert.equal(r.body.error.code, 'PLINTH_ERR_EGRESS_REFUSED');
        assert.match(r.body.error.message, new RegExp(`${host} resolves to a loopback address`));
      }
      // Other spellings of loopback, private, link-local and metadata addresses.
      for (const url of ['http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://2130706433/', 'http://0x7f.1/', 'http://10.1.2.3/', 'http://100.64.0.1/',
        'http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/', 'http://[fe80::1]/', 'http://0.0.0.0/', 'http://224.0.0.1/', 'http://metadata.google.internal/']) {
        const r = await hello(strict, user, url);
        assert.equal(r.status, 403, `${url}: ${r.text}`);
        assert.equal(r.body.error.code, 'PLINTH_ERR_EGRESS_REFUSED', url);
      }
      assert.equal(open.hits.length, seen, 'nothing reached the internal service');
    });

    test('the allowlist lets the named target through, the card read through the address that was checked', async () => {
      const ok = await hello(allowing, userOfAllowing, `http://127.0.0.1:${open.port}/.well-known/agent-card.json`);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.agentName, 'Internal agent');
      // peer.example is allowlisted by name and resolves (in this test's DNS) to 127.0.0.1: the connection goes there.
      const byName = await hello(allowing, userOfAllowing, `http://peer.example:${other.port}/.well-known/agent-card.json`);
      assert.equal(byName.status, 200, byName.text);
      assert.ok(other.hits.includes('/.well-known/agent-card.json'));
      // The same loopback address on a port the allowlist does not name stays refused.
      const elsewhere = await hello(allowing, userOfAllowing, `http://127.0.0.1:${other.port}/.well-known/agent-card.json`);
      assert.equal(elsewhere.status, 403, elsewhere.text);
    });

    test('every redirect is checked again: an allowed server cannot bounce the request inward or off http(s)', async () => {
      const base = `http://127.0.0.1:${open.port}/redirect?to=`;
      const inside = await hello(allowing, userOfAllowing, base + encodeURIComponent(`http://127.0.0.1:${other.port}/internal/admin`));
      assert.equal(inside.status, 403, inside.text);
      assert.equal(inside.body.error.code, 'PLINTH_ERR_EGRESS_REFUSED');
      assert.ok(!other.hits.includes('/internal/admin'));
      assert.ok(!inside.text.includes('secret-admin-field'));
      for (const to of ['file:///etc/passwd', 'ftp://127.0.0.1/x', 'gopher://127.0.0.1:70/x']) {
        const r = await hello(allowing, userOfAllowing, base + encodeURIComponent(to));
        assert.equal(r.status, 403, `${to}: ${r.text}`);
        assert.match(r.body.error.message, /refused by the egress policy: only http and https are allowed/);
      }
      // The same redirect to an allowed place is followed.
      const followed = await hello(allowing, userOfAllowing, base + encodeURIComponent(`http://127.0.0.1:${open.port}/.well-known/agent-card.json`));
      assert.equal(followed.status, 200, followed.text);
    });

    test('DNS rebinding: the address is checked again when connecting, and the connection goes to what was checked', async () => {
      // The first answer (the early check) is public, every later one (the connection) is loopback.
      let asked = 0;
      const rebind = await createTestKernel({
        database: 'sqlite', plugins: [plugin('a2a')],
        egressHosts: name => (name === 'rebind.example' ? (asked++ === 0 ? ['93.184.216.34'] : ['127.0.0.1']) : undefined),
      });
      try {
        const seen = open.hits.length;
        const r = await hello(rebind, (await rebind.createUser()).token, `http://rebind.example:${open.port}/internal/admin`);
        assert.equal(r.status, 403, r.text);
        assert.match(r.body.error.message, /rebind\.example resolves to a loopback address/);
        assert.ok(asked >= 2, 'resolved again for the connection');
        assert.equal(open.hits.length, seen);
      } finally {
        await rebind.stop();
      }
    });

    test('non-http(s) URLs never get that far: the hello schema refuses them', async () => {
      for (const cardUrl of ['file:///etc/passwd', 'ftp://127.0.0.1/', 'gopher://127.0.0.1/']) {
        const r = await hello(strict, user, cardUrl);
        assert.equal(r.status, 400, cardUrl);
      }
    });

    test('an admin changes the allowlist through PUT /api/config; it applies to the next request', async () => {
      const url = `http://127.0.0.1:${other.port}/.well-known/agent-card.json`;
      assert.equal((await hello(strict, user, url)).status, 403);
      const bad = await strict.request('PUT', '/api/config', { body: { kernel: { egressAllow: ['not a host!'] } } });
      assert.equal(bad.status, 400);
      assert.equal((await strict.request('PUT', '/api/config', { token: user, body: { kernel: { egressAllow: [`127.0.0.1:${other.port}`] } } })).status, 403);
      const put = await strict.request('PUT', '/api/config', { body: { kernel: { egressAllow: [`127.0.0.1:${other.port}`] } } });
      assert.equal(put.status, 200, put.text);
      assert.ok(put.body.applied.includes('kernel.egressAllow'));
      assert.equal((await hello(strict, user, url)).status, 200);
      await strict.request('PUT', '/api/config', { body: { kernel: { egressAllow: [] } } });
      assert.equal((await hello(strict, user, url)).status, 403);
      // The peer recorded while it was allowed: a2a.send to it is refused the same way now.
      const sent = await strict.request('POST', '/api/plugins/a2a/execute/send', { token: user, body: { peer: 'p', message: 'hi' } });
      assert.equal(sent.status, 403, sent.text);
      assert.equal(sent.body.error.code, 'PLINTH_ERR_EGRESS_REFUSED');
    });
  });
}
