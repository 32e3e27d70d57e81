import { defineErrors } from 'plinth/sdk';

/** The agents plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('agents', {
  PLINTH_ERR_MODEL_NOT_FOUND: { status: 404, message: 'no provider serves this model', hint: 'use `<provider>/<model>` with a provider GET /api/models lists' },
  PLINTH_ERR_PROVIDER: { status: 502, message: 'the model provider failed', hint: 'the message has the provider\'s answer; check its endpoint and key (`plinth doctor`)' },
  PLINTH_ERR_PROVIDER_NAME: { status: 500, message: 'a model provider\'s name is invalid', hint: 'name providers with lowercase letters, digits and dashes' },
  PLINTH_ERR_PROVIDER_DUPLICATE: { status: 409, message: 'a model provider with this name is already registered', hint: 'pick another name, or disable the plugin that registers the other' },
  PLINTH_ERR_BREAKER_OPEN: { status: 503, message: 'the provider is failing and its circuit breaker is open', hint: 'wait until `retryAt` in the details, or configure a fallback model' },
  PLINTH_ERR_AGENT: { status: 500, message: 'the agent turn failed', hint: 'the server log has the stack' },
});
