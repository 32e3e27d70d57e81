const id = { type: 'string', minLength: 1, maxLength: 200 } as const;
const text = { type: 'string', minLength: 1, maxLength: 64_000 } as const;

export const IdParams = { type: 'object', required: ['id'], properties: { id } };
export const CidParams = { type: 'object', required: ['cid'], properties: { cid: id } };

export const Binding = {
  type: 'object', additionalProperties: false,
  required: ['socket', 'server_started_at', 'pane_id', 'pane_pid', 'agent_pid', 'agent_started_at'],
  properties: {
    socket: { type: 'string', minLength: 1, maxLength: 1000 },
    server_started_at: { type: 'string', minLength: 1, maxLength: 40 },
    pane_id: { type: 'string', pattern: '^%[0-9]+$' },
    pane_pid: { type: 'integer', minimum: 1 },
    agent_pid: { type: 'integer', minimum: 1 },
    agent_started_at: { type: 'string', minLength: 1, maxLength: 40 },
    hook_pid: { type: 'integer', minimum: 1 },
  },
};

const name = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$' };

export const RegisterBody = {
  type: 'object', additionalProperties: false, required: ['name', 'backend', 'binding'],
  properties: {
    peer_id: id, name, circle: name,
    role: { enum: ['agent', 'service', 'orchestrator', 'human'] },
    backend: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,39}$' },
    cwd: { type: 'string', maxLength: 4000 }, host: { type: 'string', maxLength: 200 },
    binding: Binding,
  },
};

export const PeersQuery = {
  type: 'object', additionalProperties: false,
  properties: {
    status: { enum: ['registered', 'online', 'busy', 'offline', 'retired'] },
    circle: name, backend: { type: 'string', maxLength: 40 }, addressable: { type: 'boolean' },
  },
};

export const OfflineBody = { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 500 }, terminal: { type: 'boolean', default: false } } };
export const DoctorQuery = { type: 'object', additionalProperties: false, properties: { repair: { type: 'boolean', default: false } } };
export const RehookBody = { type: 'object', additionalProperties: false, properties: { apply: { type: 'boolean', default: false } } };

export const AskBody = {
  type: 'object', additionalProperties: false, required: ['from', 'to', 'text'],
  properties: { from: id, to: id, text, reply_to: id, question: { type: 'object' }, ttl_ms: { type: 'integer', minimum: 1000, maximum: 7 * 86_400_000 } },
};
export const AckBody = { type: 'object', additionalProperties: false, required: ['correlation_id'], properties: { correlation_id: id, message: text } };
export const DeclineBody = { type: 'object', additionalProperties: false, required: ['correlation_id'], properties: { correlation_id: id, reason: { type: 'string', maxLength: 2000 } } };
export const WaitBody = { type: 'object', additionalProperties: false, properties: { timeout_ms: { type: 'integer', minimum: 0, maximum: 50_000, default: 50_000 } } };
export const PendingQuery = {
  type: 'object', additionalProperties: false,
  properties: { peer_id: id, pane_id: { type: 'string', pattern: '^%[0-9]+$' }, direction: { enum: ['inbound', 'outbound', 'both'], default: 'both' } },
};
export const NotifyBody = { type: 'object', additionalProperties: false, required: ['to', 'text'], properties: { from: id, to: id, text } };
export const BroadcastBody = { type: 'object', additionalProperties: false, required: ['from', 'text'], properties: { from: id, text } };
export const DescriptionBody = { type: 'object', additionalProperties: false, required: ['peer_id', 'description'], properties: { peer_id: id, description: { type: 'string', maxLength: 2000 }, ttl_ms: { type: 'integer', minimum: 1000 } } };
export const TurnBody = { type: 'object', additionalProperties: false, required: ['turn'], properties: { turn: { enum: ['busy', 'idle'] }, pane_id: { type: 'string', pattern: '^%[0-9]+$' } } };
export const PaneParams = { type: 'object', required: ['pane_id'], properties: { pane_id: { type: 'string', pattern: '^%[0-9]+$' } } };
export const LinkBody = {
  type: 'object', additionalProperties: false, required: ['backend'],
  properties: { backend: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,39}$' }, name, circle: name, socket: { type: 'string', minLength: 1, maxLength: 1000 } },
};
