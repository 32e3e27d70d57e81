const ID = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' } as const;
const SHA256 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;

export const IdParams = { type: 'object', required: ['id'], properties: { id: ID } };
export const ToggleBody = { type: 'object', additionalProperties: false, properties: { enabled: { type: 'boolean' } } };
export const ReloadBody = {
  type: 'object', additionalProperties: false,
  properties: { accept: { type: 'boolean', default: false, description: 'Record the hashes on disk now as the trusted ones' } },
};
export const InstallBody = {
  type: 'object', required: ['id'], additionalProperties: false,
  properties: { id: ID, sha256: SHA256, overwrite: { type: 'boolean', default: false } },
};
export const ActivateBody = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: ID, sha256: SHA256 } };
export const LoadToolInput = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { ...ID, description: 'The skill id, as listed in your instructions' } } };
