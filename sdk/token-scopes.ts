import { kernelErrors } from './error-catalogue';

/**
 * Token scopes. A token without scopes (every session, and every API token unless it was made
 * with some) has its user's full rights, as before scopes existed. A token with scopes is let in
 * only where a route or WebSocket endpoint declares one of them (`{ auth: 'user', scope: 'device' }`),
 * or where a plugin that checks tokens itself asks for one (`auth.verifyToken(token, { scope })`);
 * everywhere else it is refused with 403 PLINTH_ERR_TOKEN_SCOPE. The user's role still applies.
 */

/** The scope of a paired device's token (plugins/devices): what declares it is what a device may call. */
export const DEVICE_SCOPE = 'device';

/** What a scope name looks like: lowercase, short, no spaces (they are stored space-separated). */
export const SCOPE_NAME = /^[a-z][a-z0-9._:-]{0,63}$/;

export function tokenAdmits(tokenScopes: readonly string[] | null, required: string | undefined): boolean {
  return tokenScopes === null || (required !== undefined && tokenScopes.includes(required));
}

/** Throws 403 PLINTH_ERR_TOKEN_SCOPE, naming what `what` (a route, an endpoint) needs and what the token has. */
export function assertTokenScope(tokenScopes: readonly string[] | null, required: string | undefined, what: string): void {
  if (tokenAdmits(tokenScopes, required)) return;
  const has = tokenScopes!.join(', ');
  const message = required
    ? `${what} needs a token with the scope "${required}"; this token is limited to: ${has}`
    : `${what} needs a token with its user's full rights (no scopes); this token is limited to: ${has}`;
  throw kernelErrors.error('PLINTH_ERR_TOKEN_SCOPE', message, { details: { required: required ?? null, tokenScopes } });
}
