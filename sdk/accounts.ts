import type { IncomingMessage } from 'node:http';
import { createServiceRef } from './refs';
import type { AuthService, Role, User } from './types';

export interface UserRecord extends User { disabled: boolean; createdAt: string }
export interface TokenRecord { id: string; userId: string; name: string; kind: string; scopes: string[] | null; createdAt: string; expiresAt: string | null }

/**
 * The kernel's users and tokens, for the plugin that serves the account API (plugins/accounts:
 * sign-in, users, tokens). The kernel keeps the store and checks every request's token itself;
 * managing accounts over HTTP is a plugin's job. Changes cross kernels (cached tokens dropped).
 */
export interface AccountsService extends AuthService {
  listUsers(): Promise<UserRecord[]>;
  createUser(input: { email: string; password?: string; name?: string; role: Role }): Promise<User>;
  /** The last enabled admin cannot be demoted or disabled (409). */
  updateUser(id: string, patch: { role?: Role; disabled?: boolean; name?: string | null }): Promise<UserRecord>;
  /** Removes the user and its tokens; the last enabled admin cannot be deleted (409). */
  deleteUser(id: string): Promise<void>;
  /**
   * Signs in someone an external identity provider vouched for (OpenID Connect; plugins/oidc, through plugins/accounts): finds the user
   * by e-mail or, when `createRole` is given, creates it on first sign-in; opens a session. The
   * answer carries the `Set-Cookie` value for the session cookie (Secure when `req` came over TLS).
   */
  signInExternal(identity: { email: string; name?: string }, options: { createRole?: Role; req: IncomingMessage }): Promise<{ user: User; created: boolean; token: string; expiresAt: string; setCookie: string }>;
  /** Email and password → a session token; one answer (401) for an unknown user and a wrong password. */
  login(email: string, password: string): Promise<{ user: User; token: string; expiresAt: string }>;
  /** A token's user, id and scopes, or undefined (invalid, expired, revoked, user disabled). */
  resolveToken(token: string): Promise<{ user: User; tokenId: string; scopes: string[] | null } | undefined>;
  /** Every token of a user (undefined: everyone's), never their secrets. */
  listTokens(userId: string | undefined): Promise<TokenRecord[]>;
  tokenOwner(tokenId: string): Promise<string | undefined>;
  /** The `Set-Cookie` value carrying a session token (`''` with max age 0 clears it); Secure when `req` came over TLS. */
  sessionCookie(req: IncomingMessage, value: string, maxAgeSeconds: number): string;
  /** A single-use ticket a browser WebSocket presents as `?ticket=` (browsers cannot set headers on one). */
  issueWsTicket(userId: string): { ticket: string; expiresAt: string };
}

export const accountsRef = createServiceRef<AccountsService>({ id: 'core.accounts' });

export const SESSION_COOKIE = 'plinth_session';

/** The token of an `Authorization: Bearer …` header. */
export function bearerToken(headers: Record<string, string | string[] | undefined>): string | undefined {
  const h = headers.authorization;
  const value = Array.isArray(h) ? h[0] : h;
  const m = value && /^Bearer\s+(\S+)$/i.exec(value);
  return m ? m[1] : undefined;
}

/** The session token of a `Cookie` header. */
export function cookieToken(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k !== SESSION_COOKIE) continue;
    // A mangled cookie is no credential (401), not a server error.
    try { return decodeURIComponent(v.join('=')); } catch { return undefined; }
  }
  return undefined;
}
