import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Client } from 'openid-client';

export interface OidcConfig {
  issuer: string;
  clientId?: string;
  clientSecret?: string;
  redirectUri?: string;
  allowedDomains: string[];
  createUsers: boolean;
  scopes: string;
  label: string;
  flowTtlMs: number;
}

/** What the browser carries between /auth/google and the callback: only the flow's id, in a cookie. */
interface Flow { state: string; nonce: string; verifier: string; expiresAt: number }

export const FLOW_COOKIE = 'plinth_oidc';

/** A refusal the sign-in page shows as the reason. */
export class SignInRefused extends Error {}

/**
 * The relying party: openid-client does discovery, the authorization URL with PKCE (S256), and
 * the callback's checks (state, nonce, the ID token's signature, issuer, audience, expiry).
 * Flows are kept here, keyed by a random id in an HttpOnly cookie, and used once.
 *
 * Discovery and the token request are not sent through the egress policy: the issuer is set by
 * an admin (like the database URL), never by a user, and a company's provider on a private
 * network (Keycloak, Dex) is a normal setup that the policy would refuse.
 */
export class RelyingParty {
  private client: Promise<Client> | undefined;
  private readonly flows = new Map<string, Flow>();

  constructor(private readonly cfg: OidcConfig, private readonly secret: string | undefined, private readonly redirectUriOf: () => string, private readonly now: () => number) {}

  /** Asked when needed: the kernel's base URL is known once it listens, after setup. */
  private get redirectUri(): string {
    return this.redirectUriOf();
  }

  get enabled(): boolean {
    return Boolean(this.cfg.clientId);
  }

  private getClient(): Promise<Client> {
    this.client ??= (async () => {
      const { Issuer, custom } = require('openid-client') as typeof import('openid-client');
      custom.setHttpOptionsDefaults({ timeout: 10_000 });
      const issuer = await Issuer.discover(this.cfg.issuer);
      return new issuer.Client({
        client_id: this.cfg.clientId!,
        client_secret: this.secret,
        redirect_uris: [this.redirectUri],
        response_types: ['code'],
        token_endpoint_auth_method: this.secret ? 'client_secret_basic' : 'none',
      });
    })();
    // A failed discovery is tried again on the next sign-in, not remembered.
    this.client.catch(() => { this.client = undefined; });
    return this.client;
  }

  /** Starts a flow: the provider's authorization URL and the flow id for the cookie. */
  async begin(): Promise<{ url: string; flowId: string }> {
    const { generators } = require('openid-client') as typeof import('openid-client');
    const client = await this.getClient();
    this.sweep();
    const flow: Flow = { state: generators.state(), nonce: generators.nonce(), verifier: generators.codeVerifier(), expiresAt: this.now() + this.cfg.flowTtlMs };
    const flowId = randomBytes(24).toString('base64url');
    if (this.flows.size >= 10_000) throw new SignInRefused('too many sign-ins under way; try again shortly');
    this.flows.set(flowId, flow);
    const url = client.authorizationUrl({
      scope: this.cfg.scopes,
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: generators.codeChallenge(flow.verifier),
      code_challenge_method: 'S256',
    });
    return { url, flowId };
  }

  /** Finishes a flow: the verified identity, or SignInRefused with the reason. */
  async finish(flowId: string | undefined, req: IncomingMessage): Promise<{ email: string; name?: string }> {
    const flow = flowId ? this.flows.get(flowId) : undefined;
    if (flowId) this.flows.delete(flowId);
    if (!flow || flow.expiresAt <= this.now()) throw new SignInRefused('the sign-in expired or was started in another browser; start again');
    const client = await this.getClient();
    const params = client.callbackParams(req);
    if (params.error) throw new SignInRefused(`the provider refused: ${params.error_description ?? params.error}`);
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.callback(this.redirectUri, params, { state: flow.state, nonce: flow.nonce, code_verifier: flow.verifier, response_type: 'code' });
      claims = tokens.claims();
      // A provider may keep scope claims out of the ID token (OIDC Core 5.4): ask UserInfo
      // (openid-client checks that its `sub` is the ID token's).
      if (typeof claims.email !== 'string' && tokens.access_token) claims = { ...(await client.userinfo(tokens, { via: 'header' } as any)), ...claims };
    } catch (err) {
      throw new SignInRefused(`the sign-in could not be verified: ${(err as Error).message}`);
    }
    const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
    if (!email) throw new SignInRefused('the provider did not give an e-mail address (is the "email" scope granted?)');
    if (claims.email_verified === false) throw new SignInRefused(`the provider has not verified ${email}`);
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (this.cfg.allowedDomains.length && !this.cfg.allowedDomains.some(d => d.toLowerCase() === domain)) {
      throw new SignInRefused(`accounts of ${domain} may not sign in here`);
    }
    return { email, name: typeof claims.name === 'string' ? claims.name : undefined };
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, f] of this.flows) if (f.expiresAt <= now) this.flows.delete(id);
  }
}

export function flowCookie(value: string, maxAgeSeconds: number): string {
  // Lax, not Strict: the callback is a navigation coming back from the provider's site.
  return `${FLOW_COOKIE}=${value}; Path=/auth/google; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}`;
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}
