import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { AddressClass } from '../../sdk';

/**
 * Which addresses are what (public, loopback, private, link-local, metadata, …) and the admin's
 * allowlist rules: pure functions, the egress policy's judgement without its network.
 */
export type AllowRule = { port?: number } & ({ kind: 'cidr'; range: [ipaddr.IPv4 | ipaddr.IPv6, number]; exact: boolean } | { kind: 'host'; host: string });

const METADATA_ADDRESSES = new Set(['169.254.169.254', 'fd00:ec2::254', '169.254.170.2']);
export const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data']);

export function classifyAddress(address: string): AddressClass {
  let ip = ipaddr.parse(address.replace(/^\[|\]$/g, ''));
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  if (METADATA_ADDRESSES.has(ip.toNormalizedString()) || METADATA_ADDRESSES.has(ip.toString())) return 'metadata';
  const range = ip.range();
  switch (range) {
    case 'unicast':
      // ::a.b.c.d (IPv4-compatible, deprecated) is not a public IPv6 address whatever ipaddr.js says.
      return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).parts.slice(0, 6).every(p => p === 0) ? 'reserved' : 'public';
    case 'loopback': return 'loopback';
    case 'private': case 'uniqueLocal': case 'carrierGradeNat': return 'private';
    case 'linkLocal': return 'link-local';
    case 'unspecified': return 'unspecified';
    case 'multicast': case 'broadcast': return 'multicast';
    default: return 'reserved';
  }
}

/** Allowlist entries: `host`, `*.domain`, `host:port`, an IP, `ip:port`, `[v6]:port`, a CIDR. */
export function parseEgressAllow(entries: string[]): AllowRule[] {
  return entries.map(raw => raw.trim().toLowerCase()).filter(Boolean).map(entry => {
    if (entry.includes('/')) {
      if (!ipaddr.isValidCIDR(entry)) throw new Error(`egress allowlist entry "${entry}" is not a valid CIDR`);
      const range = ipaddr.parseCIDR(entry);
      return { kind: 'cidr', range, exact: range[1] === (range[0].kind() === 'ipv4' ? 32 : 128) };
    }
    let host = entry;
    let port: number | undefined;
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? (isIP(entry) ? null : /^([^:]+):(\d+)$/.exec(entry));
    if (m) { host = m[1]; port = m[2] === undefined ? undefined : Number(m[2]); }
    if (port !== undefined && (port < 1 || port > 65535)) throw new Error(`egress allowlist entry "${entry}" has a bad port`);
    if (isIP(host)) {
      const ip = ipaddr.parse(host);
      return { kind: 'cidr', range: [ip, ip.kind() === 'ipv4' ? 32 : 128], exact: true, port };
    }
    if (!/^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/.test(host)) throw new Error(`egress allowlist entry "${entry}" is not a host, host:port, IP or CIDR`);
    return { kind: 'host', host: host.replace(/\.$/, ''), port };
  }) as AllowRule[];
}

export function ruleAllows(rule: AllowRule, hostname: string, port: number, address: string, cls: AddressClass): boolean {
  if (rule.port !== undefined && rule.port !== port) return false;
  if (rule.kind === 'host') {
    const wild = rule.host.startsWith('*.');
    if (wild && cls === 'metadata') return false;
    return wild ? hostname.endsWith(rule.host.slice(1)) : hostname === rule.host;
  }
  if (cls === 'metadata' && !rule.exact) return false;
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  return ip.kind() === rule.range[0].kind() && ip.match(rule.range);
}
