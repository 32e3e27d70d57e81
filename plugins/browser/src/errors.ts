import { defineErrors } from 'plinth/sdk';

/** The browser plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('browser', {
  PLINTH_ERR_BROWSER_UNAVAILABLE: { status: 503, message: 'chromium is not installed or does not start', hint: 'install it (apt-get install chromium) or set the browser plugin\'s chromiumPath; `GET /api/browser/status` says why' },
  PLINTH_ERR_BROWSER_LIMIT: { status: 429, message: 'too many browsers for this user', hint: 'stop one (POST /api/browser/stop) or ask an admin to raise sessionsPerUser' },
  PLINTH_ERR_BROWSER_NOT_STARTED: { status: 409, message: 'no browser is running for this user', hint: 'POST /api/browser/start first (agent tools start one by themselves)' },
  PLINTH_ERR_BROWSER_ACTION: { status: 422, message: 'the browser could not do this action', hint: 'the message says why (no such element, several match, not a form field, …); check the selector' },
  PLINTH_ERR_BROWSER_TIMEOUT: { status: 504, message: 'the page or the element did not come in time', hint: 'retry, wait_for the element first, or raise timeout_ms (bounded by the plugin\'s limits)' },
});
