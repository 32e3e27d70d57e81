import { defineErrors } from 'plinth/sdk';

/** The oidc plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('oidc', {
  PLINTH_ERR_OIDC_DISABLED: { status: 404, message: 'sign-in with an OpenID Connect provider is not configured', hint: 'set the oidc plugin\'s clientId (and the PLINTH_OIDC_CLIENT_SECRET secret)' },
});
