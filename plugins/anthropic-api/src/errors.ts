import { isPlinthError } from 'plinth/sdk';

/**
 * An error in Anthropic's shape, `{ type: 'error', error: { type, message } }`, so that Anthropic
 * clients raise their usual typed errors (AuthenticationError, NotFoundError, …). The plugin has no
 * `PLINTH_ERR_*` codes of its own: a kernel or agents error is translated here, its code kept in
 * `error.plinth_code` for logs and support.
 * Types and statuses: https://docs.anthropic.com/en/api/errors
 */
export class AnthropicApiError extends Error {
  constructor(readonly status: number, readonly type: string, message: string, readonly plinthCode?: string) {
    super(message);
  }
  body() {
    return { type: 'error', error: { type: this.type, message: this.message, ...(this.plinthCode ? { plinth_code: this.plinthCode } : {}) } };
  }
}

export const invalidRequest = (message: string) => new AnthropicApiError(400, 'invalid_request_error', message);

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error',
  409: 'invalid_request_error', 413: 'request_too_large', 429: 'rate_limit_error', 502: 'api_error', 503: 'overloaded_error',
};

export function toAnthropicError(err: unknown): AnthropicApiError {
  if (err instanceof AnthropicApiError) return err;
  if (isPlinthError(err)) {
    const type = TYPE_BY_STATUS[err.status] ?? (err.status < 500 ? 'invalid_request_error' : 'api_error');
    return new AnthropicApiError(err.status, type, err.message, err.code);
  }
  return new AnthropicApiError(500, 'api_error', 'the server failed to answer this request');
}
