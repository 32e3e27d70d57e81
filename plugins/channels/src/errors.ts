import { defineErrors } from 'plinth/sdk';

/** The channels plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('channels', {
  PLINTH_ERR_CHANNEL_UNKNOWN: { status: 409, message: 'no adapter is registered for this channel', hint: 'enable the channel\'s plugin (telegram, whatsapp, …)' },
  PLINTH_ERR_CHANNEL_NAME: { status: 500, message: 'a channel adapter\'s name is invalid', hint: 'name adapters like "telegram": lowercase letters, digits and dashes' },
});
