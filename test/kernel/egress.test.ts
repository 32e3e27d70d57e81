import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyAddress, parseEgressAllow } from '../../core/egress';

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
