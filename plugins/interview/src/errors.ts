import { defineErrors } from 'plinth/sdk';

/** The interview plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('interview', {
  PLINTH_ERR_INTERVIEW_STATE: { status: 409, message: 'the interview is not at that step', hint: 'answer every question before finish; a finished interview cannot change' },
  PLINTH_ERR_INTERVIEW_APPLY: { status: 502, message: 'a configuration request of the interview failed', hint: 'the answer lists what was applied and what failed; fix it in settings' },
});
