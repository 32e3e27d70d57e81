import { defineErrors } from 'plinth/sdk';

/** The a2a plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('a2a', {
  PLINTH_ERR_A2A_PEER: { status: 502, message: 'the A2A peer failed or did not answer an agent card', hint: 'check the peer URL and that it serves its agent card' },
  PLINTH_ERR_TOO_MANY_PEERS: { status: 429, message: 'this user has added as many A2A peers as allowed', hint: 'remove a peer first' },
  PLINTH_ERR_A2A_TIMEOUT: { status: 504, message: 'the A2A peer did not answer in time', hint: 'retry, or raise the timeout' },
});
