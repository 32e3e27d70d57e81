import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EgressPolicy, classifyAddress, parseEgressAllow } from '../../core/egress/egress-policy';

test('addresses are classified after ipaddr.js, IPv4-mapped and IPv4-compatible IPv6 as what they carry', () => {
  const cases: Record<string, string> = {
    '8.8.8.8': 'public', '2606:4700::1111': 'public',
    '127.0.0.1': 'loopback', '127.8.9.10': 'loopback', '::1': 'loopback', '::ffff:127.0.0.1': 'loopback', '::ffff:7f00:1': 'loopback',
    '10.0.0.1': 'private', '172.16.5.4': 'private', '192.168.1.1': 'private', '100.64.0.1': 'private', 'fc00::1': 'private', 'fd12::1': 'private', '::ffff:10.0.0.1': 'private',
    '169.254.1.1': 'link-local', 'fe80::1': 'link-local',
    '169.254.169.254': 'metadata', 'fd00:ec2::254': 'metadata', '::ffff:169.254.169.254': 'metadata',
    '0.0.0.0': 'unspecified', '::': 'unspecified',
    '224.0.0.1': 'multicast', 'ff02::1': 'multicast', '255.255.255.255': 'multicast',
    '::7f00:1': 'reserved', '64:ff9b::7f00:1': 'reserved', '2001:db8::1': 'reserved', '240.0.0.1': 'reserved',
  };
  for (const [address, cls] of Object.entries(cases)) assert.equal(classifyAddress(address), cls, address);
  assert.throws(() => classifyAddress('not-an-ip'));
});

test('allowlist entries: hosts, wildcards, host:port, IPs, [v6]:port, CIDRs; nonsense is refused with the entry named', () => {
  const rules = parseEgressAllow(['peer.example', '*.corp.example', 'mcp.local:8443', '127.0.0.1', '127.0.0.1:9000', '[::1]:9000', '10.0.0.0/8', 'fd00::/8', ' ']);
  assert.equal(rules.length, 8);
  assert.deepEqual(rules.map(r => [r.kind, r.port ?? null]), [
    ['host', null], ['host', null], ['host', 8443], ['cidr', null], ['cidr', 9000], ['cidr', 9000], ['cidr', null], ['cidr', null],
  ]);
  for (const bad of ['not a host', '10.0.0.0/33', 'host:99999', 'http://x']) assert.throws(() => parseEgressAllow([bad]), new RegExp(bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
});

test('an allowlisted IPv6 literal is reached; the same server by a name that also resolves elsewhere is refused', async t => {
  const server = createServer((req, res) => res.end(`ok ${req.headers.host}`));
  const listening = await new Promise<boolean>(r => { server.once('error', () => r(false)); server.listen(0, '::1', () => r(true)); });
  if (!listening) return t.skip('no IPv6 loopback on this machine');
  const port = (server.address() as AddressInfo).port;
  const egress = new EgressPolicy({ allow: () => ['::1'], lookup: async () => [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }] });
  try {
    const res = await egress.fetch(`http://[::1]:${port}/`);
    assert.equal(await res.text(), `ok [::1]:${port}`);
    await assert.rejects(egress.fetch(`http://both.example:${port}/`), /both\.example resolves to a loopback address/);
    await assert.rejects(egress.fetch(`http://[::1]:${port}/`, { maxBytes: 3 }).then(r => r.text()), { code: 'PLINTH_ERR_EGRESS_TOO_LARGE' });
  } finally {
    await egress.close();
    server.close();
  }
});
