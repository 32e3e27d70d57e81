import { defineErrors } from 'plinth/sdk';

/** The webhook-chat plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('webhook-chat', {
  PLINTH_ERR_WEBHOOK_SIGNATURE: { status: 401, message: 'the webhook signature is missing or wrong', hint: 'sign the body with the shared secret in X-Signature' },
});
