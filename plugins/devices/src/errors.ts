import { defineErrors } from 'plinth/sdk';

/** The devices plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('devices', {
  PLINTH_ERR_DEVICE_CODE: { status: 403, message: 'the pairing code is wrong', hint: 'type the code shown where the pairing was started' },
  PLINTH_ERR_DEVICE_EXPIRED: { status: 410, message: 'the pairing code has expired', hint: 'start a new pairing' },
  PLINTH_ERR_DEVICE_LOCKED: { status: 423, message: 'too many wrong codes: this pairing is locked', hint: 'start a new pairing' },
  PLINTH_ERR_DEVICE_STATE: { status: 409, message: 'the device is not waiting for its code', hint: 'it is already paired or revoked; start a new pairing' },
  PLINTH_ERR_DISCOVERY_CARD: { status: 502, message: 'the discovered agent has no valid A2A agent card', hint: 'its announcement must name a card URL (TXT card=) serving a card with a name and a url' },
  PLINTH_ERR_DISCOVERY_NO_A2A: { status: 503, message: 'the a2a plugin is not enabled', hint: 'enable the a2a plugin to add discovered agents as peers' },
});
