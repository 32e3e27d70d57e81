import { defineErrors } from 'plinth/sdk';

/** The telegram plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('telegram', {
  PLINTH_ERR_WEBHOOK_SECRET: { status: 401, message: 'the webhook secret token is missing or wrong', hint: 'set the same secret in setWebhook and the plugin config' },
});
