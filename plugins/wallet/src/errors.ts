import { defineErrors } from 'plinth/sdk';

/** The wallet plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('wallet', {
  PLINTH_ERR_WALLET_NOT_CONFIGURED: { status: 503, message: 'no JSON-RPC endpoint is configured for the wallet', hint: 'an admin sets wallet config rpcUrl and chainId' },
  PLINTH_ERR_WALLET_RPC: { status: 502, message: 'the wallet\'s JSON-RPC endpoint did not answer', hint: 'check the endpoint in wallet config rpcUrl and that the egress policy allows it' },
  PLINTH_ERR_WALLET_CHAIN: { status: 502, message: 'the JSON-RPC endpoint serves another chain than the configured one', hint: 'fix wallet config chainId or rpcUrl' },
});
