import { accountsRef, definePlugin } from 'plinth/sdk';
import { externalSignInRef } from './contract';
import { LoginThrottle } from './login-throttle';
import { migrations } from './migrations';
import { registerSessionRoutes, registerUserRoutes } from './routes';

/**
 * The account API: signing in and out, users, API tokens and WebSocket tickets, over the kernel's
 * accounts service. The kernel keeps the users and tokens and checks each request's token; this
 * plugin is how people manage them over HTTP (`plinth user …` works on the database without it).
 */
export default definePlugin<{ accounts: typeof accountsRef }>({
  deps: { accounts: accountsRef },
  provides: [externalSignInRef],
  async setup({ accounts, http, storage, clock, provide }) {
    const db = await storage.open({ migrations });
    registerSessionRoutes(http, accounts, new LoginThrottle(db, () => clock.now()));
    registerUserRoutes(http, accounts);
    // Signing in through a provider is the account plugin's to grant: plugins/oidc asks here, so no other plugin can open sessions.
    provide(externalSignInRef, { signIn: (identity, options) => accounts.signInExternal(identity, options) });
  },
});
