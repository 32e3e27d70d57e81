import { defineErrors } from 'plinth/sdk';

/** The whatsapp plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('whatsapp', {
  PLINTH_ERR_WEBHOOK_SIGNATURE: { status: 401, message: 'the webhook signature is missing or wrong', hint: 'check the app secret in the plugin config matches the sender\'s' },
});
