import { defineErrors } from 'plinth/sdk';

/** The mesh plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('mesh', {
  PLINTH_ERR_MESH_NO_EVIDENCE: { status: 422, message: 'the pane or the agent process named in the binding is not alive on this host', hint: 'register from the hook inside the agent\'s pane (`plinth peer hook`), with the agent\'s real pid' },
  PLINTH_ERR_MESH_RETIRED: { status: 410, message: 'the peer is retired', hint: 'register again from a live agent; a stale hook cannot bring a retired peer back' },
  PLINTH_ERR_MESH_NOT_ADDRESSABLE: { status: 409, message: 'the peer is not addressable (offline, retired, or its agent is gone)', hint: 'GET /api/peers?addressable=true lists who can be reached; notify queues for a peer without inbox' },
  PLINTH_ERR_MESH_UNREACHABLE: { status: 503, message: 'the peer has no working inbox', hint: 'the ask or reply stays as it was; retry when the peer\'s hook is connected (GET /api/peers/:id/doctor)' },
  PLINTH_ERR_MESH_INJECTION_FAILED: { status: 502, message: 'the recipient\'s hook could not deliver into its pane', hint: 'the trace has the hook\'s reason; GET /api/peers/:id/doctor' },
  PLINTH_ERR_MESH_ASK_CLOSED: { status: 410, message: 'the ask is already closed', hint: 'GET /api/asks/pending lists open asks' },
  PLINTH_ERR_MESH_QUEUE_FULL: { status: 429, message: 'the peer\'s queue of undelivered notifies is full', hint: 'wait until the peer reconnects, or raise queueCap' },
  PLINTH_ERR_MESH_TRANSITION: { status: 409, message: 'the lifecycle transition is not allowed', hint: 'the refusal is recorded as a contradiction; GET /api/peers/:id/doctor' },
  PLINTH_ERR_MESH_NOT_LOCAL: { status: 409, message: 'the peer runs on another host', hint: 'run this on the peer\'s host' },
  PLINTH_ERR_MESH_TRANSPORT_UNESTABLISHED: { status: 503, message: 'the linked pane\'s hook did not connect an inbox in time; the link was rolled back', hint: '`details.repair` says what to try; nothing of the link remains' },
  PLINTH_ERR_MESH_HOOK_SPAWN_FAILED: { status: 500, message: 'the hook for the linked pane could not be started; the link was rolled back', hint: 'check the mesh plugin\'s hookCommand' },
});
