import { defineErrors } from 'plinth/sdk';

/** The insights plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('insights', {
  PLINTH_ERR_INSIGHTS_NO_TURNS: { status: 409, message: 'there are no finished turns to analyse', hint: 'send a message in the session first' },
});
