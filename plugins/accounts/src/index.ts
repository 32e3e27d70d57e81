import { accountsRef, definePlugin } from 'plinth/sdk';
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
  async setup({ accounts, http, storage, clock }) {
    const db = await storage.open({ migrations });
    registerSessionRoutes(http, accounts, new LoginThrottle(db, () => clock.now()));
    registerUserRoutes(http, accounts);
  },
});
