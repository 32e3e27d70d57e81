import type { IncomingMessage } from 'node:http';
import { kernelErrors, PlinthError } from '../../sdk';
import { isLoopback, type KernelSettings } from '../process-settings';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Who may talk to the server at all, for HTTP and WebSocket alike:
 * - bound beyond loopback with no admin token configured, only loopback clients;
 * - bound to loopback, only a loopback `Host` (a page on another name that rebinds its DNS to
 *   127.0.0.1 is otherwise same-origin with us); `PLINTH_ALLOWED_HOSTS` adds names.
 */
export class Admission {
  private readonly loopbackOnly: boolean;
  private readonly hosts: Set<string> | undefined;

  constructor(settings: Pick<KernelSettings, 'host' | 'adminToken' | 'allowedHosts'>) {
    this.loopbackOnly = !isLoopback(settings.host) && !settings.adminToken;
    const extra = settings.allowedHosts ?? [];
    if (isLoopback(settings.host) || extra.length) this.hosts = new Set([...LOOPBACK_NAMES, ...extra.map(h => h.toLowerCase())]);
  }

  check(remoteAddress: string | undefined, hostHeader: string | undefined): PlinthError | undefined {
    if (this.loopbackOnly && !isLoopback(remoteAddress)) {
      return kernelErrors.error('PLINTH_ERR_LOOPBACK_ONLY', 'this server has no PLINTH_ADMIN_TOKEN configured and only accepts loopback clients');
    }
    if (this.hosts && hostHeader !== undefined && !this.hostAllowed(hostHeader)) {
      const name = hostName(hostHeader);
      return kernelErrors.error('PLINTH_ERR_HOST', `Host "${name}" is not one this server answers to; add it to PLINTH_ALLOWED_HOSTS`);
    }
    return undefined;
  }

  /** The same check for an HTTP request; the peer's address is asked only when it matters (a system call). */
  checkRequest(req: IncomingMessage): PlinthError | undefined {
    // No Host header at all is checked as an empty one (refused when names are checked), as Koa's ctx.get('host') gave.
    return this.check(this.loopbackOnly ? req.socket.remoteAddress : undefined, req.headers.host ?? '');
  }

  /** Host headers seen, allowed or not: a server hears very few, and parsing one on every request showed in profiles. */
  private readonly seenHosts = new Map<string, boolean>();

  private hostAllowed(hostHeader: string): boolean {
    let ok = this.seenHosts.get(hostHeader);
    if (ok === undefined) {
      ok = this.hosts!.has(hostName(hostHeader));
      if (this.seenHosts.size >= 256) this.seenHosts.clear();
      this.seenHosts.set(hostHeader, ok);
    }
    return ok;
  }
}

function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon > 0 ? h.slice(0, colon) : h;
}
