import { externalSignInRef } from 'plinth/contracts/accounts';
import { definePlugin } from 'plinth/sdk';
import { RelyingParty, type OidcConfig } from './relying-party';
import { registerRoutes } from './routes';

export default definePlugin<{ signIn: typeof externalSignInRef }>({
  deps: { signIn: externalSignInRef },
  async setup({ signIn, http, kernel, config, secrets, clock, log }) {
    const cfg = config as OidcConfig;
    const rp = new RelyingParty(cfg, secrets.PLINTH_OIDC_CLIENT_SECRET ?? cfg.clientSecret, () => cfg.redirectUri ?? `${kernel.baseUrl()}/auth/google/callback`, () => clock.now());
    registerRoutes(http, { rp, cfg, signIn, log });
  },
});
