import type { RouteRequest } from 'plinth/sdk';

export interface AdminCall { method: string; path: string; body?: unknown }
export type AdminClient = (call: AdminCall) => Promise<{ status: number; body: any }>;

/**
 * Calls the kernel's own admin routes (PUT /api/config, the agents plugin's routes) as the admin
 * who is being interviewed, with their credentials: the interview applies a configuration exactly
 * as that admin would by hand — same validation, same ownership, same audit — and gains no right
 * of its own. Loopback to this kernel only; never a user-supplied URL.
 */
export function adminClient(baseUrl: () => string, req: RouteRequest): AdminClient {
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const h of ['authorization', 'cookie']) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h] as string;
  return async ({ method, path, body }) => {
    // A cookie session must show a same-origin Origin to change state (the kernel's CSRF check).
    // The admin's own request to the interview already passed that check; these calls go to this
    // kernel's address, so they carry its origin.
    if (headers.cookie) headers.origin = baseUrl();
    const res = await fetch(baseUrl() + path, {
      method, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: any = text;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
    return { status: res.status, body: parsed };
  };
}
