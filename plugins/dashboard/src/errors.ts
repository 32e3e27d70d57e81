import { defineErrors } from 'plinth/sdk';

/** The dashboard plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('dashboard', {
  PLINTH_ERR_DASHBOARD_NOT_BUILT: { status: 503, message: 'the dashboard bundle is not built', hint: 'run `npm run build`' },
});
