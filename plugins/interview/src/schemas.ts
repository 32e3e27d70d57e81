const id = { type: 'string', pattern: '^itv_[a-z2-7]{20}$' } as const;
export const StartBody = { type: 'object', additionalProperties: false, properties: {} } as const;
export const TurnBody = {
  type: 'object', additionalProperties: false, required: ['id', 'answer'],
  properties: { id, answer: { type: 'string', maxLength: 100_000 } },
} as const;
export const FinishBody = {
  type: 'object', additionalProperties: false, required: ['id'],
  properties: { id, confirm: { type: 'boolean', default: false, description: 'true applies the proposal; otherwise it is only shown' } },
} as const;
