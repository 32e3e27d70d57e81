import { defineErrors } from 'plinth/sdk';

/** The ollama-provider plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('ollama-provider', {
  PLINTH_ERR_PROVIDER: { status: 502, message: 'the model provider failed', hint: 'the message has Ollama\'s answer; check it runs and has the model' },
});
