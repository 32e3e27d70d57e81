import type { BrowserContext, Request, Route } from 'playwright-core';
import { egressErrorIn, type EgressService } from 'plinth/sdk';

/** Headers the kernel's fetch sets by itself, or that describe the connection rather than the request. */
const DROP_REQUEST = new Set(['host', 'connection', 'content-length', 'accept-encoding', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-connection']);
/** The kernel's fetch hands over a decoded body: its encoding and length no longer apply. */
const DROP_RESPONSE = new Set(['content-encoding', 'content-length', 'transfer-encoding', 'connection', 'keep-alive']);

export interface EgressRouting {
  /** The last URL the policy refused, to name it in the error of the action that hit it. */
  lastRefused(): { url: string; message: string } | undefined;
}

/**
 * Every request a page of this context makes — documents, redirects, subresources, popups, form
 * posts — is answered by the kernel through `core.egress`, which resolves, checks (no loopback or
 * private address unless allowlisted) and connects to the checked address. Redirects are followed
 * by egress, each hop checked: a 3xx handed to Chromium would be followed by Chromium itself, and
 * Playwright does not route the next hop (seen: it went to the network). So a redirected page keeps
 * the URL that was asked for. WebSockets are closed: the policy cannot see inside them.
 */
export async function routeThroughEgress(context: BrowserContext, egress: EgressService, limits: { timeoutMs: number; maxBytes: number }): Promise<EgressRouting> {
  let refused: { url: string; message: string } | undefined;
  await context.route('**/*', async (route: Route, request: Request) => {
    const url = request.url();
    if (!/^https?:/i.test(url)) return abort(route, 'blockedbyclient');
    try {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(await request.allHeaders())) if (!DROP_REQUEST.has(name) && !name.startsWith(':')) headers[name] = value;
      const res = await egress.fetch(url, {
        method: request.method(), headers, body: request.postDataBuffer() ?? undefined,
        timeoutMs: limits.timeoutMs, maxBytes: limits.maxBytes,
      });
      const body = Buffer.from(await res.arrayBuffer());
      const out: Record<string, string> = {};
      res.headers.forEach((value, name) => { if (!DROP_RESPONSE.has(name) && name !== 'set-cookie') out[name] = value; });
      const cookies = res.headers.getSetCookie();
      // Playwright takes several Set-Cookie values joined by newlines.
      if (cookies.length) out['set-cookie'] = cookies.join('\n');
      await route.fulfill({ status: res.status, headers: out, body }).catch(() => undefined);
    } catch (err) {
      const policy = egressErrorIn(err);
      if (policy?.code === 'PLINTH_ERR_EGRESS_REFUSED') refused = { url, message: policy.message };
      await abort(route, policy?.code === 'PLINTH_ERR_EGRESS_REFUSED' ? 'blockedbyclient' : 'connectionfailed');
    }
  });
  await context.routeWebSocket(/.*/, ws => ws.close({ code: 1008, reason: 'WebSockets are not allowed in the Plinth browser' }));
  return { lastRefused: () => refused };
}

/** The page may be gone by now (closed, navigated away): nothing is left to answer. */
function abort(route: Route, code: string): Promise<void> {
  return route.abort(code).catch(() => undefined);
}
