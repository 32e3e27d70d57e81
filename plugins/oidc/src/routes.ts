import type { ExternalSignIn } from 'plinth/contracts/accounts';
import { reply, type HttpRouter, type Logger } from 'plinth/sdk';
import { errorCodes } from './errors';
import { FLOW_COOKIE, SignInRefused, flowCookie, readCookie, type OidcConfig, type RelyingParty } from './relying-party';
import { CallbackQuery } from './schemas';

/** Where the browser lands: the dashboard, which is also the sign-in page. */
const SIGN_IN_PAGE = '/dashboard/';

export interface OidcRouteDeps { rp: RelyingParty; cfg: OidcConfig; signIn: ExternalSignIn; log: Logger }

/** `/auth/google-enabled`, `/auth/google` and its callback (inside plugins/accounts' `/auth`, which it depends on). */
export function registerRoutes(http: HttpRouter, { rp, cfg, signIn, log }: OidcRouteDeps): void {
  const toSignIn = (reason: string) => reply(302, undefined, { headers: { location: `${SIGN_IN_PAGE}?signin_error=${encodeURIComponent(reason)}` } });

  http.get('/auth/google-enabled', { auth: 'public', summary: 'Whether sign-in with the OpenID Connect provider is configured' }, () => ({ enabled: rp.enabled, label: cfg.label }));
  http.get('/auth/google', { auth: 'public', summary: 'Begin signing in with the OpenID Connect provider (a redirect to it)' }, async () => {
    if (!rp.enabled) throw errorCodes.error('PLINTH_ERR_OIDC_DISABLED');
    try {
      const { url, flowId } = await rp.begin();
      return reply(302, undefined, { headers: { location: url, 'set-cookie': flowCookie(flowId, Math.ceil(cfg.flowTtlMs / 1000)), 'cache-control': 'no-store' } });
    } catch (err) {
      log.warn('OpenID Connect sign-in could not start', { error: (err as Error).message });
      return toSignIn(err instanceof SignInRefused ? err.message : `the provider ${cfg.issuer} could not be reached`);
    }
  });
  http.get('/auth/google/callback', { auth: 'public', query: CallbackQuery, summary: 'The provider sends the browser back here; → the dashboard, or the sign-in page with the reason' }, async req => {
    if (!rp.enabled) throw errorCodes.error('PLINTH_ERR_OIDC_DISABLED');
    try {
      const identity = await rp.finish(readCookie(req.headers.cookie as string | undefined, FLOW_COOKIE), req.node.req);
      const session = await signIn.signIn(identity, { createRole: cfg.createUsers ? 'user' : undefined, req: req.node.req });
      if (session.created) log.info('a user signed in for the first time through OpenID Connect', { user: session.user.id });
      return reply(302, undefined, { headers: { location: SIGN_IN_PAGE, 'set-cookie': session.setCookie, 'cache-control': 'no-store' } });
    } catch (err) {
      if (err instanceof SignInRefused) return toSignIn(err.message);
      if ((err as { code?: string }).code === 'PLINTH_ERR_FORBIDDEN') return toSignIn((err as Error).message);
      log.warn('OpenID Connect sign-in failed', { error: (err as Error).message });
      return toSignIn(`the provider ${cfg.issuer} could not be reached`);
    }
  });
}
