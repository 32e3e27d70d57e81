import { defineErrors } from 'plinth/sdk';

/** The memory plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('memory', {
  PLINTH_ERR_SEARCH_SYNTAX: { status: 400, message: 'the search query is not valid full-text syntax', hint: 'use plain words, or fix the operators the message names' },
});
