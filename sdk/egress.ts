import { createServiceRef } from './refs';
import { PlinthError } from './errors';

/**
 * What an address is, for the egress policy. Only `public` addresses are reached without an admin
 * allowlist entry; `metadata` (cloud instance metadata) only with an entry naming it exactly.
 */
export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified' | 'multicast' | 'reserved';

/** A URL checked against the policy: where a connection would go, and the address it is pinned to. */
export interface EgressTarget {
  url: string;
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number;
  /** Every address the name resolved to, classified. */
  addresses: Array<{ address: string; family: 4 | 6; class: AddressClass }>;
  /** The address to connect to (the one that was checked; connecting elsewhere reopens DNS rebinding). */
  address: string;
  /** True when an admin allowlist entry let a non-public target through. */
  allowlisted: boolean;
}

export interface EgressFetchInit extends Omit<RequestInit, 'redirect' | 'signal'> {
  signal?: AbortSignal | null;
  /** Until the response headers arrive, over all redirects. Default 30 s. */
  timeoutMs?: number;
  /** Longest pause between two chunks of the body; 0 = none (long-lived event streams). Default = timeoutMs. */
  idleTimeoutMs?: number;
  /** The body is cut (the read fails) past this many bytes. Default 10 MB. */
  maxBytes?: number;
  /** Redirects are followed by the service, each hop checked again. Default 5. */
  maxRedirects?: number;
}

/**
 * Outbound requests made for a user (a URL a user supplied, or a remote an admin configured for
 * users): http(s) only; loopback, private, CGNAT, ULA, link-local, metadata, unspecified,
 * multicast and reserved addresses are refused after DNS resolution and on every redirect, unless
 * the kernel's egress allowlist (`PLINTH_EGRESS_ALLOW`) names them. The connection goes to the
 * address that was checked. Errors: 403 `PLINTH_ERR_EGRESS_REFUSED` ("refused by the egress
 * policy"), 502 `PLINTH_ERR_EGRESS_UNREACHABLE` (one message whatever the cause, so a port scan
 * learns nothing), 502 `PLINTH_ERR_EGRESS_TOO_LARGE`.
 */
export interface EgressService {
  fetch(url: string | URL, init?: EgressFetchInit): Promise<Response>;
  /** A `fetch` with these defaults, for client libraries that take one (MCP, A2A). */
  fetcher(defaults?: EgressFetchInit): typeof fetch;
  /** Resolves and checks a URL as `fetch` would; for clients that connect by themselves (a browser). */
  check(url: string | URL): Promise<EgressTarget>;
  /** The class of an IP address (IPv4-mapped IPv6 counts as its IPv4 address); throws on a non-address. */
  classify(address: string): AddressClass;
}

export const egressRef = createServiceRef<EgressService>({ id: 'core.egress' });

export const EGRESS_REFUSED = 'PLINTH_ERR_EGRESS_REFUSED';
export const EGRESS_UNREACHABLE = 'PLINTH_ERR_EGRESS_UNREACHABLE';
export const EGRESS_TOO_LARGE = 'PLINTH_ERR_EGRESS_TOO_LARGE';
const EGRESS_CODES: readonly string[] = [EGRESS_REFUSED, EGRESS_UNREACHABLE, EGRESS_TOO_LARGE];

/** The egress error inside `err` (client libraries wrap what their fetch threw as a `cause`). */
export function egressErrorIn(err: unknown): PlinthError | undefined {
  for (let e: any = err, depth = 0; e && depth < 8; e = e.cause, depth++) {
    if (e.name === 'PlinthError' && EGRESS_CODES.includes(e.code)) return e as PlinthError;
  }
  return undefined;
}
