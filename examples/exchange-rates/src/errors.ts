import { defineErrors } from 'plinth/sdk';

/** The exchange-rates plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('exchange-rates', {
  PLINTH_ERR_NETWORK_PERMISSION: { status: 400, message: 'the host is not in the plugin\'s permissions.network', hint: 'add the host to plugin.json, or configure a listed one' },
});
