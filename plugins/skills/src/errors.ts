import { defineErrors } from 'plinth/sdk';

/** The skills plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('skills', {
  PLINTH_ERR_SKILL_CATALOG: { status: 422, message: 'the skill catalog file is invalid', hint: 'fix the file the message names' },
  PLINTH_ERR_SKILL_CHECKSUM: { status: 422, message: 'the catalog skill does not match its checksum', hint: 'the skill changed since it was listed; update the catalog or the skill' },
});
