/** Contract of the `accounts` plugin: sign-in through an external identity provider (plugins/oidc). */
import { createServiceRef, type AccountsService } from 'plinth/sdk';

export interface ExternalSignIn {
  /** Finds (or, with `createRole`, creates) the user by e-mail and opens a session; the answer carries its `Set-Cookie`. */
  signIn: AccountsService['signInExternal'];
}

export const externalSignInRef = createServiceRef<ExternalSignIn>({ id: 'accounts.externalSignIn' });
